// Package pushgateway sends lens results to a Prometheus Pushgateway: the
// metrics that report.WritePrometheus writes (see
// report.NewPrometheusCollector), under a job and grouping labels, for CI
// jobs that end before a Prometheus server could scrape them.
package pushgateway

import (
	"context"
	"fmt"
	neturl "net/url"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/llm-latency-lens/lens/report"
)

// Push pushes the results of f to the Pushgateway at url (such as
// "http://pushgateway:9091") under job and the grouping labels, replacing
// every metric of that group (an HTTP PUT). The Pushgateway adds job and
// the grouping labels to each series. Grouping must not use the labels of
// the series themselves (scenario, provider, model, outcome, error_class,
// type).
//
// ctx bounds the request. The error says what the Pushgateway answered when
// it refused the push.
func Push(ctx context.Context, url, job string, f *report.File, grouping map[string]string) error {
	p := push.New(url, job).Collector(report.NewPrometheusCollector(f))
	names := make([]string, 0, len(grouping))
	for k := range grouping {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p = p.Grouping(k, grouping[k])
	}
	if err := p.PushContext(ctx); err != nil {
		shown, redact := redacted(url)
		if redact == nil {
			return fmt.Errorf("pushgateway: push to %s, job %q: %w", url, job, err)
		}
		// The client library's error names the URL as given, password
		// included: the error says it without, and wraps nothing that
		// would.
		return fmt.Errorf("pushgateway: push to %s, job %q: %s", shown, job, redact.Replace(err.Error()))
	}
	return nil
}

// redacted returns rawURL with its password, if it has one, shown as
// "xxxxx", and a replacer that takes the password out of any text; a nil
// replacer when the URL carries no password.
func redacted(rawURL string) (string, *strings.Replacer) {
	u, err := neturl.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL, nil
	}
	pass, ok := u.User.Password()
	if !ok || pass == "" {
		return rawURL, nil
	}
	shown := u.Redacted()
	return shown, strings.NewReplacer(rawURL, shown, pass, "xxxxx", neturl.PathEscape(pass), "xxxxx", neturl.QueryEscape(pass), "xxxxx")
}
