/** CSI sequences (colours, cursor moves) and other two-byte ESC sequences. */
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;

/** Text without ANSI escape codes (build tools colour their output; logs and pushes must not carry them). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
