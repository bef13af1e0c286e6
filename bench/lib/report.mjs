// The console table, results.json, and the results section of bench/README.md.
import { readFileSync, writeFileSync } from 'node:fs';

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

const num = (v) =>
  v === null || v === undefined ? '—' : typeof v === 'number' ? String(v) : String(v);
const goalText = (g) => (g ? `${g.op === '<=' ? '≤' : '≥'} ${g.value}` : '—');
const status = (e) => (e.error ? 'ERROR' : e.met === null ? 'reported' : e.met ? 'met' : 'MISSED');
const baseText = (e) =>
  e.baseline === undefined ? '' : `${num(e.baseline)} (${e.baseline_unit ?? e.unit})`;

export function rows(entries) {
  return entries.map((e) => [
    e.name,
    num(e.value),
    e.unit,
    goalText(e.goal),
    status(e),
    baseText(e),
    e.note ?? '',
  ]);
}

export function printTable(entries) {
  const head = ['figure', 'value', 'unit', 'goal', 'status', 'baseline', 'notes'];
  const all = [head, ...rows(entries)];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) =>
    r
      .map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  console.log(
    ['', line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows(entries).map(line)].join(
      '\n',
    ),
  );
}

export function markdownTable(entries) {
  const head =
    '| figure | value | unit | goal | status | baseline | notes |\n| --- | ---: | --- | --- | --- | --- | --- |';
  return [
    head,
    ...rows(entries).map(
      (r) =>
        `| \`${r[0]}\` | ${r[1]} | ${r[2]} | ${r[3]} | ${r[4] === 'MISSED' ? '**missed**' : r[4]} | ${r[5]} | ${r[6]} |`,
    ),
  ].join('\n');
}

/** Replaces the results section of README.md (between the markers) with this run's table and chart. */
export function updateReadme(file, entries, meta) {
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${file} lacks the ${START} / ${END} markers`);
  const met = entries.filter((e) => e.met === true).length;
  const missed = entries.filter((e) => e.met === false).length;
  const section = [
    START,
    `Latest run: \`${meta.command}\` on ${meta.date}, library at ${meta.library}, ${meta.machine}, in ${meta.seconds} s` +
      ` (load average ${meta.load}).`,
    `${met} goals met, ${missed} missed, ${entries.filter((e) => e.met === null).length} figures reported without a goal.`,
    '',
    markdownTable(entries),
    '',
    '![Fan-out latency and apply cost](costs.svg)',
    END,
  ].join('\n');
  writeFileSync(file, text.slice(0, a) + section + text.slice(b + END.length));
}
