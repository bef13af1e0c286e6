// bench/costs.svg: how fan-out latency grows with clients, and how apply cost
// grows with snapshot size (log-log panels), drawn from this run's entries.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v) =>
  v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
const tick = (v) => (v >= 1 ? String(Math.round(v)) : String(Number(v.toPrecision(1))));

/** One log-log panel at (x0, y0). series: [{ label, color, points: [[x, y], ...], dash? }] */
function panel({ x0, y0, w, h, title, xLabel, yLabel, xTicks, series }) {
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0);
  if (!ys.length)
    return `<text x="${x0}" y="${y0 + 20}" font-size="13">${esc(title)}: no data</text>`;
  const lo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const [xa, xb] = [Math.log10(xTicks[0]), Math.log10(xTicks[xTicks.length - 1])];
  const px = (x) => x0 + 50 + ((Math.log10(x) - xa) / (xb - xa)) * (w - 70);
  const py = (y) =>
    y0 +
    h -
    40 -
    ((Math.log10(Math.max(y, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (h - 80);
  const parts = [
    `<text x="${x0 + w / 2}" y="${y0 + 16}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let d = lo; d <= hi * 1.001; d *= 10) {
    parts.push(
      `<line x1="${x0 + 50}" x2="${x0 + w - 20}" y1="${py(d)}" y2="${py(d)}" stroke="#ddd"/>`,
      `<text x="${x0 + 45}" y="${py(d) + 4}" text-anchor="end" font-size="11">${tick(d)}</text>`,
    );
  }
  for (const t of xTicks) {
    parts.push(
      `<line x1="${px(t)}" x2="${px(t)}" y1="${y0 + 30}" y2="${y0 + h - 40}" stroke="#eee"/>`,
      `<text x="${px(t)}" y="${y0 + h - 24}" text-anchor="middle" font-size="11">${t}</text>`,
    );
  }
  parts.push(
    `<text x="${x0 + w / 2}" y="${y0 + h - 6}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`,
    `<text transform="translate(${x0 + 12} ${y0 + h / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`,
    `<rect x="${x0 + 50}" y="${y0 + 30}" width="${w - 70}" height="${h - 70}" fill="none" stroke="#999"/>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[1] > 0);
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="5 4"' : ''} points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const p of pts) {
      parts.push(
        `<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3.5" fill="${s.color}"/>`,
        `<text x="${(px(p[0]) + 6).toFixed(1)}" y="${(py(p[1]) - 6).toFixed(1)}" font-size="10" fill="${s.color}">${fmt(p[1])}</text>`,
      );
    }
    parts.push(
      `<line x1="${x0 + 62}" x2="${x0 + 82}" y1="${y0 + 44 + i * 15}" y2="${y0 + 44 + i * 15}" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="5 4"' : ''}/>`,
      `<text x="${x0 + 88}" y="${y0 + 48 + i * 15}" font-size="11">${esc(s.label)}</text>`,
    );
  });
  return parts.join('\n');
}

/** @param {object[]} entries this run's entries @param {string} subtitle */
export function costsSvg(entries, subtitle) {
  const by = new Map(entries.map((e) => [e.name, e]));
  const fan = [100, 300, 1000]
    .map((n) => [n, by.get(`fanout_p99_ms_${n}`)])
    .filter(([, e]) => e?.value !== undefined && e.value !== null);
  const apply = [1, 10, 100]
    .map((kb) => [kb, by.get(`apply_cost_us_${kb}kb`)])
    .filter(([, e]) => e?.value !== undefined && e.value !== null);
  const W = 980;
  const H = 380;
  const left = panel({
    x0: 10,
    y0: 30,
    w: 470,
    h: H - 40,
    title: 'Fan-out: server broadcast → client callback',
    xLabel: 'connected clients',
    yLabel: 'latency (ms)',
    xTicks: [100, 300, 1000],
    series: [
      { label: 'p99', color: '#c0392b', points: fan.map(([n, e]) => [n, e.value]) },
      { label: 'p50', color: '#2980b9', points: fan.map(([n, e]) => [n, e.detail?.p50_ms ?? 0]) },
      {
        label: 'server broadcast loop',
        color: '#7f8c8d',
        dash: true,
        points: fan.map(([n, e]) => [n, e.detail?.server_broadcast_loop_ms ?? 0]),
      },
    ],
  });
  const right = panel({
    x0: 500,
    y0: 30,
    w: 470,
    h: H - 40,
    title: 'Apply cost per push vs snapshot size',
    xLabel: 'snapshot size (KB)',
    yLabel: 'µs per push',
    xTicks: [1, 10, 100],
    series: [
      {
        label: 'store + Agent Zero reducer',
        color: '#c0392b',
        points: apply.map(([kb, e]) => [kb, e.value]),
      },
      {
        label: 'store + default reducer',
        color: '#27ae60',
        points: apply.map(([kb, e]) => [kb, e.detail?.store_with_default_reducer_us ?? 0]),
      },
      {
        label: 'JSON.parse of the push (wire decode)',
        color: '#7f8c8d',
        dash: true,
        points: apply.map(([kb, e]) => [kb, e.detail?.wire_decode_us ?? 0]),
      },
    ],
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="18" text-anchor="middle" font-size="12" fill="#555">${esc(subtitle)}</text>
${left}
${right}
</svg>
`;
}
