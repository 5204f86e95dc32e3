// Summarises a V8 .cpuprofile (from node --cpu-prof): the frames with the most self time, and self time per package.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export function topFrames(file: string, limit = 15): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const byFrame = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|src)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
    byFrame.set(key, (byFrame.get(key) ?? 0) + hits);
    byPackage.set(packageOf(url, functionName), (byPackage.get(packageOf(url, functionName)) ?? 0) + hits);
  }
  const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)} %`;
  const lines = ['self time by frame:'];
  for (const [k, v] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, limit))
    lines.push(`  ${pct(v)}  ${k}`);
  lines.push('self time by package / area:');
  for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, limit))
    lines.push(`  ${pct(v)}  ${k}`);
  return lines;
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1] as string;
  const s = /\/src\/([^/]+(?:\/[^/]+)?)/.exec(url);
  if (s) return `src/${s[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^file:\/\//, '');
}

if (process.argv[1]?.endsWith('profile.ts') && process.argv[2]) {
  console.log(topFrames(process.argv[2], Number(process.argv[3] ?? 20)).join('\n'));
}
