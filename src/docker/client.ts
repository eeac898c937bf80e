import Docker from 'dockerode';

/** A Docker client for DOCKER_HOST (docker-modem reads it) or the local socket. */
export function createDockerClient(): Docker {
  return new Docker();
}

export type { Docker };
