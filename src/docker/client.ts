import { createRequire } from 'node:module';
import type Docker from 'dockerode';
import { deferDockerodeDependencies } from './deferred-modules.js';

const require = createRequire(import.meta.url);

/**
 * A Docker client for DOCKER_HOST (docker-modem reads it) or the local socket. dockerode is
 * loaded here, after its SSH and BuildKit dependencies are deferred (see deferred-modules.ts),
 * not by a static import, which would load them first.
 */
export function createDockerClient(): Docker {
  deferDockerodeDependencies();
  const DockerClass = require('dockerode') as typeof Docker;
  return new DockerClass();
}

export type { Docker };
