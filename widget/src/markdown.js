// Safe Markdown for bot messages: paragraphs, lists, code blocks, **bold**, *italics*, `code`,
// [links](https://...), bare URLs and citation marks [1]. It builds DOM nodes with text nodes
// only, so HTML in the model's answer stays text. Links: http(s) and mailto only.
import { h, safeUrl } from './dom.js';

const INLINE = new RegExp(
  [
    /(`+)([^`]+?)\1/, // `code`
    /\*\*(.+?)\*\*/, // **bold**
    /(?<![\w])__(.+?)__(?!\w)/, // __bold__ (not inside words: snake__case stays)
    /\*(?![\s*])(.+?)\*/, // *italics*
    /(?<![\w])_(?![\s_])(.+?)_(?!\w)/, // _italics_
    /\[([^\]]+)\]\(\s*<?([^()\s<>]+)>?\s*\)/, // [label](url)
    /(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"\]])/, // a bare URL, without its final punctuation
    /\[(\d{1,2})\]/, // a citation mark [1]
  ]
    .map((part) => part.source)
    .join('|'),
  'g',
);

export function inline(text) {
  const out = [];
  let last = 0;
  text.replace(INLINE, (match, ticks, code, b1, b2, i1, i2, label, href, bare, cite, at) => {
    if (at > last) out.push(text.slice(last, at));
    last = at + match.length;
    if (code != null) out.push(h('code', null, code));
    else if (b1 != null || b2 != null) out.push(h('strong', null, inline(b1 ?? b2)));
    else if (i1 != null || i2 != null) out.push(h('em', null, inline(i1 ?? i2)));
    else if (label != null) out.push(link(href, inline(label)) || match);
    else if (bare != null) out.push(link(bare, [bare]) || bare);
    else out.push(h('span', { class: 'n' }, '[' + cite + ']'));
    return match;
  });
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function link(href, kids) {
  const url = safeUrl(href, true);
  if (!url) return null;
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow' }, kids);
}

const ITEM = /^\s{0,3}([-*+]|(\d{1,9})[.)])\s+(.*)$/;
const FENCE = /^\s{0,3}(```|~~~)/;

/** Markdown text -> an array of block elements. */
export function markdown(src) {
  const lines = String(src).replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let para = [];
  const flush = () => {
    if (!para.length) return;
    const kids = [];
    para.forEach((line, i) => kids.push(...(i ? [h('br')] : []), ...inline(line)));
    blocks.push(h('p', null, kids));
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const code = [];
      while (++i < lines.length && !lines[i].trim().startsWith(fence[1])) code.push(lines[i]);
      blocks.push(h('pre', null, h('code', null, code.join('\n'))));
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      flush();
      const ordered = item[2] != null;
      const list = h(ordered ? 'ol' : 'ul', ordered && item[2] !== '1' ? { start: item[2] } : null);
      let m = item;
      while (m && (m[2] != null) === ordered) {
        list.append(h('li', null, inline(m[3])));
        m = i + 1 < lines.length ? ITEM.exec(lines[i + 1]) : null;
        if (m && (m[2] != null) === ordered) i++;
      }
      blocks.push(list);
      continue;
    }
    const heading = /^\s{0,3}#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      blocks.push(h('p', null, h('strong', null, inline(heading[1]))));
    } else if (line.trim()) para.push(line);
    else flush();
  }
  flush();
  return blocks;
}
