import { useState } from 'preact/hooks';

/** Copies `text` (a PIN) to the clipboard; falls back to a selected text area where the API is unavailable. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  const copy = async () => {
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      // Not a secure context (plain http on a LAN address): use a temporary selection instead.
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.className = 'offscreen';
      document.body.append(area);
      area.select();
      ok = document.execCommand('copy');
      area.remove();
    }
    setDone(ok ? 'copied' : 'failed');
    setTimeout(() => setDone(null), 1500);
  };
  return (
    <button type="button" class="small" onClick={copy} aria-label={label}>
      {done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}
