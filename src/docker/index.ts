export { createDockerClient } from './client.js';
export { DockerEngine } from './engine.js';
export { demuxBuffer } from './log-frames.js';
export type { BuildRequest, ContainerSpec, ContainerState, ContainerSummary, OwnedImage } from './engine.js';
export type { OwnedNetwork } from './networks.js';
export { buildLimitOptions, containerGuardsHostConfig, hostConfigFor } from './resources.js';
export { BuildStreamParser } from './build-stream.js';
export { containerName, isOneOffName, oneOffName, imageTag, networkName, LABEL_APP, LABEL_INSTANCE, LABEL_MANAGED, LABEL_RELEASE } from './labels.js';
