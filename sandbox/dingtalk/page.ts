import type { DingtalkState, MessageRecord } from './state.ts';

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Only http(s)/dingtalk links become hrefs; anything else (javascript:, data:) is neutralised. */
export function safeUrl(v: unknown): string {
  const s = String(v ?? '').trim();
  return /^(https?:|dingtalk:)/i.test(s) ? esc(s) : '#';
}

/** A small, safe subset of DingTalk markdown: headings, bold, italics, links, images, lists, line breaks. */
export function renderMarkdown(md: unknown): string {
  const lines = String(md ?? '').split(/\r?\n/);
  const out: string[] = [];
  let inList = false;
  const inline = (s: string) =>
    esc(s)
      .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_m, alt: string, url: string) => `<img alt="${alt}" src="${safeUrl(unesc(url))}">`)
      .replace(
        /\[([^\]]+)\]\(([^)\s]+)\)/g,
        (_m, t: string, url: string) => `<a href="${safeUrl(unesc(url))}" target="_blank" rel="noopener">${t}</a>`,
      )
      .replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>')
      .replace(/\*([^*]+)\*/g, '<i>$1</i>');
  for (const line of lines) {
    const li = /^\s*[-*+]\s+(.*)$/.exec(line) ?? /^\s*\d+\.\s+(.*)$/.exec(line);
    if (li) {
      if (!inList) {
        out.push('<ul>');
        inList = true;
      }
      out.push(`<li>${inline(li[1]!)}</li>`);
      continue;
    }
    if (inList) {
      out.push('</ul>');
      inList = false;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) out.push(`<h${h[1]!.length + 2 > 6 ? 6 : h[1]!.length + 2}>${inline(h[2]!)}</h${h[1]!.length + 2 > 6 ? 6 : h[1]!.length + 2}>`);
    else if (/^\s*>\s?/.test(line)) out.push(`<blockquote>${inline(line.replace(/^\s*>\s?/, ''))}</blockquote>`);
    else if (line.trim() === '') out.push('<br>');
    else out.push(`<p>${inline(line)}</p>`);
  }
  if (inList) out.push('</ul>');
  return out.join('');
}

function unesc(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export function renderMessage(m: MessageRecord): string {
  const b = m.body;
  let inner: string;
  switch (m.msgtype) {
    case 'text':
      inner = `<div class="text">${esc(b.content).replace(/\n/g, '<br>')}</div>`;
      break;
    case 'markdown':
      inner = `<div class="md"><div class="title">${esc(b.title)}</div>${renderMarkdown(b.text)}</div>`;
      break;
    case 'link':
      inner = `<a class="link" href="${safeUrl(b.messageUrl)}" target="_blank" rel="noopener"><b>${esc(b.title)}</b><span>${esc(b.text)}</span></a>`;
      break;
    case 'image':
      inner = `<img class="pic" alt="image" src="${safeUrl(b.photoURL)}">`;
      break;
    case 'actionCard': {
      const btns = Array.isArray(b.btns)
        ? (b.btns as Array<Record<string, unknown>>)
        : b.singleTitle
          ? [{ title: b.singleTitle, actionURL: b.singleURL }]
          : [];
      const dir = b.btnOrientation === '1' ? 'row' : 'column';
      inner = `<div class="card"><div class="title">${esc(b.title)}</div>${renderMarkdown(b.text)}<div class="btns ${dir}">${btns
        .map((x) => `<a class="btn" href="${safeUrl(x.actionURL)}" target="_blank" rel="noopener">${esc(x.title)}</a>`)
        .join('')}</div></div>`;
      break;
    }
    case 'feedCard': {
      const links = Array.isArray(b.links) ? (b.links as Array<Record<string, unknown>>) : [];
      inner = `<div class="feed">${links.map((l) => `<a href="${safeUrl(l.messageURL)}" target="_blank" rel="noopener">${esc(l.title)}</a>`).join('')}</div>`;
      break;
    }
    default:
      inner = `<pre>${esc(JSON.stringify(m.raw, null, 2))}</pre>`;
  }
  const mine = m.channel === 'user_chat';
  const at = b.at as { isAtAll?: boolean; atUserIds?: string[]; atMobiles?: string[] } | undefined;
  const atText = at
    ? [at.isAtAll ? '@all' : '', ...(at.atUserIds ?? []).map((u) => `@${u}`), ...(at.atMobiles ?? []).map((u) => `@${u}`)]
        .filter(Boolean)
        .join(' ')
    : '';
  return `<div class="msg ${mine ? 'user' : 'bot'}"><div class="who">${esc(m.sender ?? m.robotCode ?? m.robotToken ?? '')} <small>${esc(m.at.slice(11, 19))} · ${esc(m.channel)}</small></div>${inner}${atText ? `<div class="at">${esc(atText)}</div>` : ''}</div>`;
}

export function renderPage(st: DingtalkState): string {
  const groups = [...st.conversations.values()].map((c) => {
    const msgs = st.messages.filter((m) => m.openConversationId === c.openConversationId && m.channel !== 'app_robot_oto');
    const robots = [...st.robots.values()].filter((r) => r.openConversationId === c.openConversationId).map((r) => r.name);
    return `<section><h2>${esc(c.title)} <small>${esc(c.openConversationId)}${robots.length ? ` · robots: ${esc(robots.join(', '))}` : ''}</small></h2>${
      msgs.length ? msgs.slice(-50).map(renderMessage).join('') : '<p class="empty">No messages yet.</p>'
    }</section>`;
  });
  const byUser = new Map<string, MessageRecord[]>();
  for (const m of st.messages) {
    if (m.channel === 'app_robot_oto' || (m.channel === 'user_chat' && m.userId)) {
      const k = m.userId ?? '';
      byUser.set(k, [...(byUser.get(k) ?? []), m]);
    }
  }
  const chats = [...byUser.entries()].map(([u, msgs]) => {
    const name = st.users.get(u)?.name;
    return `<section><h2>1:1 · ${esc(name ?? u)} <small>${esc(u)}</small></h2>${msgs.slice(-50).map(renderMessage).join('')}</section>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>DingTalk sandbox</title><style>
body{font-family:-apple-system,"PingFang SC","Helvetica Neue",Arial,sans-serif;background:#f2f3f5;margin:0;padding:16px;color:#171a1d}
h1{font-size:18px;margin:0 0 12px}h2{font-size:15px;margin:0 0 8px}h2 small,.who small{color:#888;font-weight:normal}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}
section{background:#fff;border-radius:8px;padding:12px;max-height:80vh;overflow:auto}
.msg{margin:8px 0;max-width:92%}.msg.user{margin-left:auto;text-align:right}.who{font-size:12px;color:#555;margin-bottom:2px}
.text,.md,.card,.link,.feed{display:inline-block;text-align:left;background:#fff;border:1px solid #e5e6eb;border-radius:8px;padding:8px 10px;white-space:normal}
.msg.user .text{background:#d3e8ff;border-color:#b7d6fb}.title{font-weight:bold;margin-bottom:4px}
.btns{display:flex;gap:6px;margin-top:8px}.btns.column{flex-direction:column}.btn{border-top:1px solid #eee;padding:6px;text-align:center;color:#0089ff;text-decoration:none}
.link{text-decoration:none;color:inherit}.link span{display:block;color:#666;font-size:13px}.feed a{display:block;padding:4px 0}
.pic{max-width:240px}.at{font-size:12px;color:#0089ff}.empty{color:#999}p{margin:2px 0}img{max-width:100%}
</style></head><body><h1>DingTalk sandbox — conversations</h1><div class="grid">${[...groups, ...chats].join('') || '<p class="empty">No conversations.</p>'}</div></body></html>`;
}
