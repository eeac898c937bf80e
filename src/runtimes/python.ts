import { parseProcfile } from './procfile.js';
import type { Runtime, SourceFiles } from './runtime.js';

/** Commands whose Procfile `web:` marks a Python app even without requirements.txt or pyproject.toml. */
const PYTHON_WEB = /^(python3?|gunicorn|uvicorn)(\s|$)/;

/** The Procfile's `web:` command, or undefined (no Procfile, or no web line). Throws on a malformed Procfile. */
export async function procfileWeb(files: SourceFiles): Promise<string | undefined> {
  if (!(await files.has('Procfile'))) return undefined;
  return parseProcfile(await files.read('Procfile')).web;
}

async function procfileSaysPython(files: SourceFiles): Promise<boolean> {
  try {
    return PYTHON_WEB.test((await procfileWeb(files)) ?? '');
  } catch {
    // A broken Procfile decides nothing here; the contract check reports it.
    return false;
  }
}

/**
 * Heroku's Python detection: requirements.txt, pyproject.toml, or a Procfile whose web
 * process is started by python, gunicorn or uvicorn (a standard-library app).
 */
async function detectPython(files: SourceFiles): Promise<boolean> {
  return (await files.has('requirements.txt')) || (await files.has('pyproject.toml')) || procfileSaysPython(files);
}

async function checkPython(files: SourceFiles): Promise<string[]> {
  const web = await procfileWeb(files);
  if (web === undefined && !(await files.has('app.py'))) {
    return ['python app needs a Procfile with a "web:" line (e.g. "web: gunicorn app:app") or an app.py (started with `python app.py`); it must listen on $PORT'];
  }
  return [];
}

/** Warnings about files the python build ignores; shown in the push output. */
export async function pythonWarnings(files: SourceFiles): Promise<string[]> {
  const warnings: string[] = [];
  if ((await files.has('.python-version')) && (await files.has('runtime.txt'))) {
    warnings.push('runtime.txt is ignored: .python-version decides the Python version (delete runtime.txt)');
  }
  if ((await files.has('requirements.txt')) && (await files.has('pyproject.toml'))) {
    warnings.push('pyproject.toml is not installed: requirements.txt is (as Heroku does); delete requirements.txt to install the project');
  }
  return warnings;
}

export const pythonRuntime: Runtime = {
  name: 'python',
  appPort: 8000,
  dockerfile: 'runtimes/python/Dockerfile',
  detect: detectPython,
  check: checkPython,
};
