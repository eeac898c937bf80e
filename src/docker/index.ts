export { createDockerClient } from './client.js';
export { DockerEngine } from './engine.js';
export { demuxBuffer } from './log-frames.js';
export type { BuildRequest, ContainerSpec, ContainerState, ContainerSummary, OwnedImage } from './engine.js';
export { BuildStreamParser } from './build-stream.js';
export { containerName, imageTag, LABEL_APP, LABEL_INSTANCE, LABEL_MANAGED, LABEL_RELEASE } from './labels.js';
