/**
 * The console's one stylesheet, served as a file (`/console/assets/console.css`): the CSP allows no
 * inline style, so no page carries a `style` attribute (progress is a `<progress>` element).
 */
export const CONSOLE_CSS = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6677; --bg: #f6f7f9; --card: #fff;
  --line: #dde1e8; --accent: #2f5fd0; --ok: #1f7a45; --bad: #b42318; --warn: #9a6700; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b5; --bg: #14171d; --card: #1c2028;
  --line: #2e3440; --accent: #7aa2ff; --ok: #5cc08a; --bad: #ff7b72; --warn: #e3b341; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .6rem 1.2rem;
  background: var(--card); border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; text-decoration: none; color: var(--fg); }
header.top nav { display: flex; flex-wrap: wrap; gap: .3rem 1rem; flex: 1; }
header.top nav a { text-decoration: none; padding: .2rem 0; }
header.top nav a[aria-current="page"] { font-weight: 600; border-bottom: 2px solid var(--accent); }
header.top .who { color: var(--muted); display: flex; gap: .6rem; align-items: center; }
header.top form { margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 1.2rem; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 0 0 .6rem; }
.grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; min-width: 0; }
.wide { grid-column: 1 / -1; }
.stat { font-size: 1.6rem; font-weight: 650; }
.muted { color: var(--muted); }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
dl.counts { display: grid; grid-template-columns: auto 1fr; gap: .2rem 1rem; margin: 0; }
dl.counts dt { color: var(--muted); } dl.counts dd { margin: 0; font-weight: 600; }
progress { width: 100%; height: .8rem; accent-color: var(--accent); }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .6rem; overflow: auto;
  max-height: 24rem; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .85rem; }
form.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; gap: .2rem; font-size: .85rem; color: var(--muted); }
input, select, button { font: inherit; padding: .4rem .6rem; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--fg); }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
.signin { max-width: 24rem; margin: 10vh auto; }
.signin form { display: flex; flex-direction: column; gap: .8rem; }
.error { color: var(--bad); font-weight: 600; }
.notice { padding: .6rem .8rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); margin-bottom: 1rem; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; border: 1px solid currentColor; }
.pager { display: flex; gap: 1rem; margin-top: 1rem; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .8rem 0; }
.actions form { margin: 0; }
button.secondary { background: var(--card); color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .55; cursor: not-allowed; }
textarea { font: .85rem/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; padding: .4rem .6rem; border: 1px solid var(--line);
  border-radius: 6px; background: var(--card); color: var(--fg); width: 100%; min-height: 8rem; resize: vertical; }
form.stack { display: flex; flex-direction: column; gap: .8rem; }
.fields { display: grid; gap: .8rem 1rem; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); }
.fields .full { grid-column: 1 / -1; }
.hint { font-size: .8rem; color: var(--muted); }
.tabs { display: flex; gap: .2rem; border-bottom: 1px solid var(--line); margin-bottom: 1rem; overflow-x: auto; }
.tabs a { padding: .45rem .8rem; text-decoration: none; border: 1px solid transparent; border-bottom: none;
  border-radius: 6px 6px 0 0; white-space: nowrap; }
.tabs a[aria-current="page"] { background: var(--card); border-color: var(--line); font-weight: 600; margin-bottom: -1px; }
.tag { display: inline-block; padding: 0 .4rem; border-radius: 4px; background: var(--bg); border: 1px solid var(--line); font-size: .8rem; }
.split { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
@media (max-width: 60rem) { .split { grid-template-columns: minmax(0, 1fr); } }
.table-wrap { overflow-x: auto; }
@media (max-width: 40rem) { header.top nav { order: 3; flex: 1 1 100%; } .hide-narrow { display: none; } }
`;
