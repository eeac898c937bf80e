import { appPath } from '../client.js';
import { printJson, type Command } from '../command.js';
import { formatTime, renderTable } from '../table.js';

interface PreviewsAnswer {
  previews: { number: number; app: string; commit: string; status: string; url: string | null; updatedAt: string }[];
  skipped: { pr: number; outcome: string; reason: string | null; receivedAt: string }[];
}

export function previewsText(answer: PreviewsAnswer): string {
  const live = answer.previews.length
    ? renderTable(
        ['PR', 'APP', 'STATUS', 'COMMIT', 'URL', 'UPDATED'],
        answer.previews.map((p) => [`#${p.number}`, p.app, p.status, p.commit.slice(0, 7), p.url ?? '-', formatTime(p.updatedAt)]),
      )
    : 'No preview apps.\n';
  if (!answer.skipped.length) return live;
  const skipped = answer.skipped.map((s) => `  #${s.pr} ${s.outcome} ${formatTime(s.receivedAt)}: ${s.reason ?? ''}\n`).join('');
  return `${live}\nNot deployed:\n${skipped}`;
}

export const previewsCommand: Command = {
  name: 'previews',
  args: 'APP',
  summary: "list APP's preview apps (one per open pull/merge request) and the requests that got none",
  min: 1,
  max: 1,
  async run({ api, io, json, positionals }) {
    const answer = await api().json<PreviewsAnswer>('GET', appPath(positionals[0]!, '/previews'));
    if (json) printJson(io, answer);
    else io.out(previewsText(answer));
    return 0;
  },
};
