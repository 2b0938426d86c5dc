package report

// htmlSource is the page template of WriteHTML. It is an html/template: every
// value from a result file is escaped for the context it lands in, SVG
// included. The Content-Security-Policy forbids scripts and every fetch, so
// the page stays self-contained whatever it shows.
const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="LLM Latency Lens">
<title>{{.Title}}</title>
<style>
:root{--fg:#1f2328;--muted:#59636e;--line:#d0d7de;--soft:#eaeef2;--panel:#f6f8fa;--warn:#b42318;--head:#1c2b3a}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",sans-serif;color:var(--fg);background:#eef1f5}
header{background:var(--head);color:#fff}
header .wrap{max-width:1220px;margin:0 auto;padding:22px 24px 18px}
header h1{margin:0 0 8px;font-size:24px;font-weight:650;letter-spacing:.2px}
dl.meta{display:flex;flex-wrap:wrap;gap:4px 22px;margin:0;font-size:13px;color:#c3cfdb}
dl.meta div,dl.facts div{display:flex;gap:6px}
dl.meta dt{font-weight:600;color:#fff}
dl.meta dd,dl.facts dd{margin:0}
main{max-width:1220px;margin:0 auto;padding:8px 24px 40px}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:18px 0;box-shadow:0 1px 2px rgba(27,31,36,.04)}
h2{font-size:19px;margin:0 0 12px;font-weight:650}
h3{font-size:16px;margin:0 0 10px;font-weight:650;display:flex;align-items:center;gap:8px}
h4{font-size:14px;margin:0 0 6px;font-weight:600;color:#333}
nav.toc{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:13px}
nav.toc a,td a{color:#0b5cad;text-decoration:none}
nav.toc a:hover,td a:hover{text-decoration:underline}
.banner{background:#fff4e5;border:1px solid #f0b35a;border-radius:8px;padding:10px 14px;margin:18px 0 0;color:#6b3d00}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:13px}
th,td{padding:6px 8px;border-bottom:1px solid var(--soft);text-align:right;white-space:nowrap}
th{background:var(--panel);font-weight:600;color:#333;border-bottom:1px solid var(--line)}
th.name,td.name{text-align:left}
table.summary th{white-space:normal;vertical-align:bottom}
table.summary td.name a{font-weight:600}
tbody tr:hover{background:#f8fafc}
td.warn,dd.warn{color:var(--warn);font-weight:600}
td.empty{color:var(--muted);text-align:center}
td.sample{text-align:left;white-space:normal;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px;word-break:break-word;color:#444}
dl.facts{display:flex;flex-wrap:wrap;gap:4px 22px;margin:0 0 14px;font-size:13px}
dl.facts dt{color:var(--muted)}
dl.facts dd{font-weight:600;font-variant-numeric:tabular-nums}
article.result{border-top:1px solid var(--line);margin-top:20px;padding-top:18px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:18px 24px;margin-top:14px}
figure{margin:0;min-width:0}
figcaption{font-size:12px;color:var(--muted);margin-top:4px}
p.empty{display:flex;align-items:center;justify-content:center;text-align:center;min-height:120px;margin:0;padding:16px;border:1px dashed var(--line);border-radius:8px;color:var(--muted);background:var(--panel)}
svg.chart{display:block;width:100%;height:auto;overflow:visible}
svg.chart text{font-family:inherit}
svg .tick{font-size:11px;fill:#57606a}
svg .axis-title{font-size:12px;fill:#333;font-weight:600}
svg .ref-label{font-size:10px;fill:#8c959f}
svg .na{font-size:10px;fill:#8c959f}
svg .value{font-size:10px;fill:#444;font-variant-numeric:tabular-nums}
svg .sub{fill:#8c959f}
svg line.grid{stroke:#edf0f3;stroke-width:1}
svg line.axis{stroke:#6e7781;stroke-width:1}
svg line.ref{stroke:#b6bec8;stroke-width:1;stroke-dasharray:4 3}
tr.capacity td{font-weight:600}
svg line.capacity{stroke:#1f2328;stroke-width:1.5;stroke-dasharray:6 3}
svg .capacity-label{font-size:11px;fill:#1f2328;font-weight:600}
svg path.series{stroke-width:2.25;stroke-linejoin:round;stroke-linecap:round}
svg path.area{opacity:.16}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 16px;padding:0;margin:6px 0 0;font-size:12px;color:#333}
ul.legend li{display:flex;align-items:center;gap:6px}
svg.swatch{flex:none}
footer{max-width:1220px;margin:0 auto;padding:0 24px 30px;font-size:12px;color:var(--muted)}
</style>
</head>
<body>
<header><div class="wrap">
<h1>{{.Title}}</h1>
{{- if .Meta}}
<dl class="meta">{{range .Meta}}<div><dt>{{.Label}}</dt><dd>{{.Value}}</dd></div>{{end}}</dl>
{{- end}}
</div></header>
<main>
{{- if .Interrupted}}
<p class="banner" role="alert">This run was interrupted: the report holds what was measured until then.</p>
{{- end}}
{{- if not .Scenarios}}
<section class="card" id="summary"><h2>No results</h2><p>The result file holds no scenarios.</p></section>
{{- else}}
<nav class="card toc" aria-label="Contents"><a href="#summary">Summary</a><a href="#comparison">Comparison</a>{{range .Scenarios}}<a href="#{{.ID}}">{{.Name}}</a>{{end}}</nav>
<section class="card" id="summary">
<h2>Summary</h2>
<div class="table-wrap"><table class="summary">
<thead><tr><th class="name">Scenario</th><th class="name">Provider / model</th><th>Requests</th><th>Success</th><th>TTFT p50</th><th>TTFT p95</th><th>TTFT p99</th><th>ITL p50</th><th>E2E p95</th><th>Tokens/s p50</th><th>Req/s</th><th>Goodput</th><th>Cost/req</th></tr></thead>
<tbody>
{{- range .Summary}}
<tr><td class="name">{{template "swatch" .Color}} <a href="#{{.Anchor}}">{{.Scenario}}</a></td><td class="name">{{.Provider}}{{if .Model}} / {{.Model}}{{end}}</td><td>{{.Requests}}</td><td{{if .Failing}} class="warn"{{end}}>{{.Success}}</td><td>{{.TTFT50}}</td><td>{{.TTFT95}}</td><td>{{.TTFT99}}</td><td>{{.ITL50}}</td><td>{{.E2E}}</td><td>{{.TokensPerSec}}</td><td>{{.RPS}}</td><td>{{.Goodput}}</td><td>{{.Cost}}</td></tr>
{{- end}}
</tbody></table></div>
</section>
<section class="card" id="comparison">
<h2>Comparison</h2>
<div class="charts">{{range .Comparison}}{{template "chart" .}}{{end}}</div>
</section>
{{- range .Scenarios}}
<section class="card scenario" id="{{.ID}}">
<h2>Scenario: {{.Name}}</h2>
<dl class="facts">{{range .Config}}<div><dt>{{.Label}}</dt><dd>{{.Value}}</dd></div>{{end}}</dl>
{{- if not .Results}}
<p class="empty">No results in this scenario.</p>
{{- else}}
<div class="charts">{{range .Charts}}{{template "chart" .}}{{end}}</div>
{{- end}}
{{- range .Results}}
<article class="result" id="{{.ID}}">
<h3>{{template "swatch" .Color}}{{.Provider}}{{if .Model}} / {{.Model}}{{end}}</h3>
<dl class="facts">{{range .Facts}}<div><dt>{{.Label}}</dt><dd{{if .Warn}} class="warn"{{end}}>{{.Value}}</dd></div>{{end}}</dl>
<div class="table-wrap"><table class="stats">
<thead><tr><th class="name">Metric</th><th>Count</th><th>Min</th><th>Mean</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>Max</th></tr></thead>
<tbody>
{{- range .Stats}}
<tr><td class="name">{{.Name}}</td><td>{{.Count}}</td>{{if .Empty}}<td class="empty" colspan="8">no samples</td>{{else}}<td>{{.Min}}</td><td>{{.Mean}}</td><td>{{.P50}}</td><td>{{.P90}}</td><td>{{.P95}}</td><td>{{.P99}}</td><td>{{.P999}}</td><td>{{.Max}}</td>{{end}}</tr>
{{- end}}
</tbody></table></div>
{{- if .Gates}}
<h4 style="margin-top:14px">Gates</h4>
<div class="table-wrap"><table class="gates">
<thead><tr><th class="name">Gate</th><th class="name">Verdict</th><th class="name">Evidence</th></tr></thead>
<tbody>
{{- range .Gates}}
<tr><td class="name">{{.Description}}</td><td class="name{{if not .Holds}} warn{{end}}">{{if .Holds}}pass{{else}}fail{{end}}{{if eq .Outcome "inconclusive"}} (inconclusive){{end}}</td><td class="sample">{{.Summary}}</td></tr>
{{- end}}
</tbody></table></div>
{{- end}}
{{- if .Sweep}}
<h4 style="margin-top:14px">Capacity search</h4>
<p class="sample">{{.Capacity}}</p>
<div class="table-wrap"><table class="sweep">
<thead><tr><th>Load</th><th class="name">Verdict</th><th class="name">Gates</th><th>TTFT p50</th><th>TTFT p95</th><th>TTFT p99</th><th>Sent req/s</th><th>Goodput req/s</th><th>Tokens/s</th><th>Requests</th></tr></thead>
<tbody>
{{- range .Sweep}}
<tr{{if .Capacity}} class="capacity"{{end}}><td>{{.Load}}</td><td class="name{{if not .Holds}} warn{{end}}">{{.Verdict}}</td><td class="sample">{{.Gates}}</td><td>{{.P50}}</td><td>{{.P95}}</td><td>{{.P99}}</td><td>{{.Sent}}</td><td>{{.Goodput}}</td><td>{{.Tokens}}</td><td>{{.Requests}}</td></tr>
{{- end}}
</tbody></table></div>
{{- end}}
{{- if .Errors}}
<h4 style="margin-top:14px">Errors</h4>
<div class="table-wrap"><table class="errors">
<thead><tr><th class="name">Class</th><th>Count</th><th>Share of failures</th><th class="name">First message</th></tr></thead>
<tbody>
{{- range .Errors}}
<tr><td class="name warn">{{.Class}}</td><td>{{.Count}}</td><td>{{.Share}}</td><td class="sample">{{.Sample}}</td></tr>
{{- end}}
</tbody></table></div>
{{- end}}
{{- if .Retries}}
<h4 style="margin-top:14px">Retried attempts</h4>
<div class="table-wrap"><table class="retries">
<thead><tr><th class="name">Class</th><th>Count</th><th>Share of retries</th></tr></thead>
<tbody>
{{- range .Retries}}
<tr><td class="name">{{.Class}}</td><td>{{.Count}}</td><td>{{.Share}}</td></tr>
{{- end}}
</tbody></table></div>
{{- end}}
<div class="charts">{{range .Charts}}{{template "chart" .}}{{end}}</div>
</article>
{{- end}}
</section>
{{- end}}
{{- end}}
</main>
<footer>Generated by LLM Latency Lens. Percentiles are nearest-rank order statistics read from HDR histograms, within 0.1% above the exact value.</footer>
</body>
</html>
{{define "swatch"}}<svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" rx="2" fill="{{.}}"/></svg>{{end}}
{{define "chart"}}<figure class="chart" id="{{.ID}}">
<h4>{{.Title}}</h4>
{{- if .Empty}}
<p class="empty">{{.Empty}}</p>
{{- else}}
<svg class="chart" viewBox="0 0 {{num .W}} {{num .H}}" role="img" aria-labelledby="{{.ID}}-title {{.ID}}-desc">
<title id="{{.ID}}-title">{{.Title}}</title>
<desc id="{{.ID}}-desc">{{.Desc}}</desc>
{{- range .Grid}}
<line class="{{.Class}}" x1="{{num .X1}}" y1="{{num .Y1}}" x2="{{num .X2}}" y2="{{num .Y2}}"/>
{{- end}}
{{- range .Rects}}
<rect class="bar" x="{{num .X}}" y="{{num .Y}}" width="{{num .W}}" height="{{num .H}}" fill="{{.Fill}}">{{if .Title}}<title>{{.Title}}</title>{{end}}</rect>
{{- end}}
{{- range .Paths}}
<path class="{{.Class}}" d="{{.D}}" stroke="{{.Stroke}}" fill="{{.Fill}}">{{if .Title}}<title>{{.Title}}</title>{{end}}</path>
{{- end}}
{{- range .Marks}}
<polygon class="mark" points="{{.Points}}" fill="{{.Fill}}">{{if .Title}}<title>{{.Title}}</title>{{end}}</polygon>
{{- end}}
{{- range .Axes}}
<line class="{{.Class}}" x1="{{num .X1}}" y1="{{num .Y1}}" x2="{{num .X2}}" y2="{{num .Y2}}"/>
{{- end}}
{{- range .Texts}}
<text class="{{.Class}}" x="{{num .X}}" y="{{num .Y}}" text-anchor="{{.Anchor}}"{{if .Rotate}} transform="rotate({{num .Rotate}} {{num .X}} {{num .Y}})"{{end}}>{{.Text}}</text>
{{- end}}
</svg>
{{- end}}
{{- if .Legend}}
<ul class="legend">{{range .Legend}}<li><svg class="swatch" width="16" height="10" aria-hidden="true">{{if eq .Kind "line"}}<line x1="1" y1="5" x2="15" y2="5" stroke="{{.Color}}" stroke-width="3" stroke-linecap="round"/>{{else}}<rect width="16" height="10" rx="2" fill="{{.Color}}"/>{{end}}</svg>{{.Label}}</li>{{end}}</ul>
{{- end}}
{{- if .Note}}
<figcaption>{{.Note}}</figcaption>
{{- end}}
</figure>{{end}}`
