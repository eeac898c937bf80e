/** Heroku's prefixes: a stage line, a warning or failure line. Anything else is detail. */
const STAGE = '-----> ';
const WARNING = ' !     ';

/**
 * Routes build output: lines the build itself shapes as stages or warnings (the Node
 * planner, echo lines in runtime Dockerfiles) keep their shape; the rest is detail.
 */
export function buildLineSink(log: { write(line: string): void; detail(line: string): void }): (line: string) => void {
  return (line) => {
    if (line.startsWith(STAGE) || line.startsWith(WARNING)) log.write(line);
    else log.detail(line);
  };
}
