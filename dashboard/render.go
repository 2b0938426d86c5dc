package dashboard

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"

	"github.com/llm-latency-lens/lens"
	"github.com/llm-latency-lens/lens/report"
)

//go:embed assets/page.html
var pageSource string

var pageTemplate = template.Must(template.New("page").Parse(pageSource))

// maxChartPoints is the most points a chart line has: longer runs keep
// every k-th sample.
const maxChartPoints = 600

// maxEvents is the most alert events the page lists (the newest).
const maxEvents = 50

// pageData is what the page template draws.
type pageData struct {
	Title, Window, Interval string
	CSS                     template.CSS
	Live                    liveData
}

// liveData is the part of the page each update replaces.
type liveData struct {
	Phase     string
	Events    []eventView
	Scenarios []scenarioView
}

type eventView struct {
	Fired bool
	Line  string
}

type scenarioView struct {
	ID                           int
	Name, Provider, Model, State string
	Sent, InFlight, Succeeded    string
	Failed                       string
	AnyFailed                    bool
	FailedBy                     []classCount
	Asked, AchievedWindow        string
	AchievedRun, TokensPerSec    string
	Alerts                       []alertView
	Stats                        []statView
	Charts                       []template.HTML
}

type alertView struct {
	Name, State, Text, Detail string
}

type statView struct {
	Name  string
	Cells []string
}

// writePage writes the whole page, with the state at now.
func (m *Monitor) writePage(w io.Writer, now time.Time) error {
	live, _, err := m.live(now)
	if err != nil {
		return err
	}
	return pageTemplate.Execute(w, pageData{
		Title:    m.opts.Title,
		Window:   m.opts.Window.String(),
		Interval: m.opts.Interval.String(),
		CSS:      report.ChartCSS(),
		Live:     live,
	})
}

// render returns the SSE message of an update at now.
func (m *Monitor) render(now time.Time) []byte {
	live, title, err := m.live(now)
	var frag bytes.Buffer
	if err == nil {
		err = pageTemplate.ExecuteTemplate(&frag, "live", live)
	}
	if err != nil {
		frag.Reset()
		template.HTMLEscape(&frag, []byte("dashboard: "+err.Error()))
	}
	data, _ := json.Marshal(struct {
		HTML  string `json:"html"`
		Title string `json:"title"`
	}{frag.String(), title})
	var b bytes.Buffer
	b.WriteString("event: update\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}

// live builds the updating part of the page at now, and the page's title.
func (m *Monitor) live(now time.Time) (liveData, string, error) {
	m.mu.Lock()
	tracks := append([]*track(nil), m.tracks...)
	events := m.events
	if len(events) > maxEvents {
		events = events[len(events)-maxEvents:]
	}
	events = append([]AlertEvent(nil), events...)
	done := m.done
	m.mu.Unlock()

	var d liveData
	firing := 0
	for i := len(events) - 1; i >= 0; i-- {
		d.Events = append(d.Events, eventView{Fired: events[i].Fired, Line: events[i].String()})
	}
	for i := len(tracks) - 1; i >= 0; i-- {
		v, nf, err := tracks[i].view(m, now, done || i < len(tracks)-1)
		if err != nil {
			return d, "", err
		}
		firing += nf
		d.Scenarios = append(d.Scenarios, v)
	}
	switch {
	case done:
		d.Phase = "The run is over: this is its final state."
	case len(tracks) == 0:
		d.Phase = "Waiting for the run to start."
	default:
		d.Phase = fmt.Sprintf("Running: scenario %d of the run, %s since the dashboard started.", len(tracks), now.Sub(m.start).Round(time.Second))
	}
	title := m.opts.Title
	if firing > 0 {
		title = fmt.Sprintf("(%d alert%s) %s", firing, plural(firing), title)
	}
	return d, title, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// view builds the scenario's part of the page at now, and counts its
// firing alerts.
func (t *track) view(m *Monitor, now time.Time, over bool) (scenarioView, int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	over = over || t.finished
	v := scenarioView{ID: t.id, Name: t.name, Provider: t.provider, Model: t.model, State: "running"}
	if over {
		v.State = "finished"
	}
	end := now
	if over && !t.last.IsZero() {
		end = t.last
	}
	var failed int64
	for _, n := range t.failed {
		failed += n
	}
	v.Sent = fmtInt(t.sent)
	if t.warmup > 0 {
		v.Sent += " (+" + fmtInt(t.warmup) + " warmup)"
	}
	v.InFlight = fmtInt(t.inFlight)
	v.Succeeded = fmtInt(t.ok)
	v.Failed = fmtInt(failed)
	v.AnyFailed = failed > 0
	v.FailedBy = failedClasses(t.failed)
	if t.rate > 0 {
		v.Asked = fmtRate(t.rate) + "/s"
	} else {
		v.Asked = "closed loop, " + strconv.Itoa(t.concurrency) + " workers"
	}
	win := t.current(end)
	v.AchievedWindow, v.AchievedRun, v.TokensPerSec = "–", "–", "–"
	if win.span > 0 {
		v.AchievedWindow = fmtRate(float64(win.sent)/win.span) + "/s"
		v.TokensPerSec = fmtRate(float64(win.tokens) / win.span)
	}
	if !t.start.IsZero() {
		if el := end.Sub(t.start).Seconds(); el > 0 {
			v.AchievedRun = fmtRate(float64(t.sent)/el) + "/s"
		}
	}

	firing := 0
	limits := map[metric][]report.ChartLimit{}
	for i := range t.alertDefs {
		a, st := &t.alertDefs[i], &t.alerts[i]
		av := alertView{Name: a.Name, State: "waiting", Text: fmt.Sprintf("waiting for %d samples", a.MinSamples)}
		if st.judged {
			av.State, av.Text = "ok", "ok: "+st.value
			if st.firing {
				firing++
				av.State, av.Text = "firing", "FIRING: "+st.value
			}
			av.Detail = fmt.Sprintf("threshold %s; window value %s over %d samples; state since %s", a.threshold(), st.value, st.samples, st.since.Round(time.Second))
		}
		v.Alerts = append(v.Alerts, av)
		if a.Metric != MetricErrorRate {
			limits[metric(a.Metric)] = append(limits[metric(a.Metric)], report.ChartLimit{
				Label: a.Name, Value: a.Limit, Crossed: st.firing})
		}
	}

	for _, mt := range t.metrics {
		sv := statView{Name: lens.Metric(mt).String()}
		for _, ps := range [][3]time.Duration{win.pct[mt], percentiles(t.whole[mt])} {
			for _, d := range ps {
				sv.Cells = append(sv.Cells, fmtMaybe(d))
			}
		}
		sv.Cells = append(sv.Cells, fmtInt(t.whole[mt].Count()))
		v.Stats = append(v.Stats, sv)
	}

	step := (len(t.series) + maxChartPoints - 1) / maxChartPoints
	for ci, mt := range charted {
		var series []report.LatencySeries
		for _, whole := range []bool{false, true} {
			for pi, p := range chartPercentiles {
				s := report.LatencySeries{Percentile: p, Whole: whole, Label: "p" + strconv.FormatFloat(p, 'g', -1, 64) + ", window"}
				if whole {
					s.Label = "p" + strconv.FormatFloat(p, 'g', -1, 64) + ", run"
				}
				for k := 0; k < len(t.series); k += max(step, 1) {
					pt := t.series[k]
					val := pt.win[ci][pi]
					if whole {
						val = pt.all[ci][pi]
					}
					s.Points = append(s.Points, report.LatencyPoint{At: pt.at, Value: val})
				}
				series = append(series, s)
			}
		}
		var b bytes.Buffer
		id := fmt.Sprintf("chart-%d-%s", t.id, mt)
		if err := report.WriteLatencyChart(&b, report.LatencyChartOptions{ID: id, Title: lens.Metric(mt).String() + " over time", Metric: lens.Metric(mt).String(), Limits: limits[mt]}, series); err != nil {
			return v, 0, err
		}
		v.Charts = append(v.Charts, template.HTML(b.String())) //nolint:gosec // written by html/template
	}
	var b bytes.Buffer
	if err := report.WriteThroughputChart(&b, fmt.Sprintf("chart-%d-throughput", t.id), "Throughput over time", t.ticks); err != nil {
		return v, 0, err
	}
	v.Charts = append(v.Charts, template.HTML(b.String())) //nolint:gosec // written by html/template
	return v, firing, nil
}

func fmtMaybe(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	return fmtDuration(d)
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func fmtRate(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
