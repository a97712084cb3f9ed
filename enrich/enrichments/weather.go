package enrichments

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

const weatherContextSchema = "iglu:org.openweathermap/weather/jsonschema/1-0-0"

type weatherConfig struct {
	APIKey       string `json:"apiKey" required:"true"`
	CacheSize    int    `json:"cacheSize" required:"true"`
	GeoPrecision int    `json:"geoPrecision" required:"true"`
	APIHost      string `json:"apiHost" required:"true"`
	Timeout      int    `json:"timeout" required:"true"`
}

// weather adds the OpenWeatherMap history record closest to derived_tstamp at the event's
// geo_latitude/geo_longitude. A day of records is fetched per rounded location and cached.
type weather struct {
	in        Info
	apiKey    string
	base      string // scheme://host
	precision float64
	timeout   time.Duration
	client    *http.Client
	cache     *lruCache[[]owmRecord]
}

type owmRecord struct {
	Dt      int64           `json:"dt"`
	Main    json.RawMessage `json:"main"`
	Wind    json.RawMessage `json:"wind"`
	Clouds  json.RawMessage `json:"clouds"`
	Rain    json.RawMessage `json:"rain"`
	Snow    json.RawMessage `json:"snow"`
	Weather json.RawMessage `json:"weather"`
}

func buildWeather(b *builder) (enrichment, error) {
	var c weatherConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	var errs []error
	if c.CacheSize < 1 || c.CacheSize > 1_000_000 {
		errs = append(errs, fmt.Errorf("parameters.cacheSize: %d is not between 1 and 1000000", c.CacheSize))
	}
	if c.GeoPrecision < 1 || c.GeoPrecision > 10 {
		errs = append(errs, fmt.Errorf("parameters.geoPrecision: %d is not between 1 and 10", c.GeoPrecision))
	}
	if c.Timeout < 1 {
		errs = append(errs, fmt.Errorf("parameters.timeout: %d is not a positive number of seconds", c.Timeout))
	}
	if c.APIHost == "" {
		errs = append(errs, fmt.Errorf("parameters.apiHost: must not be empty"))
	}
	if len(errs) > 0 {
		return nil, joinErrs(errs)
	}
	scheme := b.deps.WeatherScheme
	if scheme == "" {
		scheme = "http"
	}
	return &weather{in: b.info, apiKey: c.APIKey, base: scheme + "://" + c.APIHost, precision: float64(c.GeoPrecision),
		timeout: time.Duration(c.Timeout) * time.Second, client: b.deps.HTTPClient,
		cache: newLRU[[]owmRecord](c.CacheSize, 0, b.deps.Now)}, nil
}

func (e *weather) info() Info { return e.in }

func (e *weather) enrich(ctx context.Context, st *state) {
	f := &st.ev.Fields
	var missing []string
	for _, fl := range []event.Field{event.GeoLatitude, event.GeoLongitude, event.DerivedTstamp} {
		if f[fl] == "" {
			missing = append(missing, fl.Name())
		}
	}
	for _, m := range missing {
		st.fail(e.in, "weather", InputData{Field: m, Expectation: "missing"})
	}
	if len(missing) > 0 {
		return
	}
	lat, err1 := strconv.ParseFloat(f[event.GeoLatitude], 64)
	lon, err2 := strconv.ParseFloat(f[event.GeoLongitude], 64)
	ts, err3 := event.ParseTimestamp(f[event.DerivedTstamp])
	if err1 != nil || err2 != nil || err3 != nil {
		st.fail(e.in, "weather", Simple{Error: "unparsable geo_latitude, geo_longitude or derived_tstamp"})
		return
	}
	// Round the location to 1/geoPrecision of a degree, and the time to its day.
	lat = math.Round(lat*e.precision) / e.precision
	lon = math.Round(lon*e.precision) / e.precision
	day := ts.UTC().Truncate(24 * time.Hour)
	key := strconv.FormatFloat(lat, 'f', -1, 64) + "," + strconv.FormatFloat(lon, 'f', -1, 64) + "," + day.Format(time.DateOnly)
	recs, ok := e.cache.get(key)
	if !ok {
		recs, err1 = e.fetch(ctx, lat, lon, day)
		if err1 != nil {
			if ctx.Err() == nil {
				st.fail(e.in, "weather", Simple{Error: err1.Error()})
			}
			return
		}
		e.cache.put(key, recs)
	}
	best := -1
	for i, r := range recs {
		if best < 0 || abs64(r.Dt-ts.Unix()) < abs64(recs[best].Dt-ts.Unix()) {
			best = i
		}
	}
	if best < 0 {
		st.fail(e.in, "weather", Simple{Error: "no weather record for " + key})
		return
	}
	r := recs[best]
	b := []byte{'{'}
	add := func(k string, v json.RawMessage) {
		if len(v) == 0 || string(v) == "null" {
			return
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), k...), `":`...)
		b = append(b, v...)
	}
	add("main", r.Main)
	add("wind", r.Wind)
	add("clouds", r.Clouds)
	add("rain", r.Rain)
	add("snow", r.Snow)
	add("weather", r.Weather)
	add("dt", event.AppendJSONString(nil, event.FormatISO(time.Unix(r.Dt, 0))))
	b = append(b, '}')
	st.derived = append(st.derived, event.SelfDescribing{Schema: weatherContextSchema, Data: b})
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func (e *weather) fetch(ctx context.Context, lat, lon float64, day time.Time) ([]owmRecord, error) {
	q := url.Values{
		"lat": {strconv.FormatFloat(lat, 'f', -1, 64)}, "lon": {strconv.FormatFloat(lon, 'f', -1, 64)},
		"start": {strconv.FormatInt(day.Unix(), 10)}, "end": {strconv.FormatInt(day.Add(24*time.Hour).Unix(), 10)},
		"appid": {e.apiKey},
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/data/2.5/history/city?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("weather request: %w", err)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("weather request: %w", redactErr(err, e.apiKey))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("weather request: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("weather request: HTTP status %s", resp.Status)
	}
	var out struct {
		List []owmRecord `json:"list"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("weather request: unexpected answer: %w", err)
	}
	return out.List, nil
}
