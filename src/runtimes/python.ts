import type { Runtime } from './runtime.js';

export const pythonRuntime: Runtime = {
  name: 'python',
  appPort: 8000,
  dockerfile: 'runtimes/python/Dockerfile',
  detect: async (files) => (await files.has('app.py')) || (await files.has('requirements.txt')),
  async check(files) {
    const problems: string[] = [];
    if (!(await files.has('app.py'))) problems.push('python runtime needs app.py (it is started with `python app.py` and must listen on $PORT)');
    if (!(await files.has('requirements.txt'))) problems.push('python runtime needs requirements.txt (it may be empty)');
    return problems;
  },
};
