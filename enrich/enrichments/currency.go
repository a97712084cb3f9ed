package enrichments

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// DefaultCurrencyAPI is the Open Exchange Rates API the currency conversion calls unless
// Deps.CurrencyAPI says otherwise.
const DefaultCurrencyAPI = "https://openexchangerates.org/api"

type currencyConfig struct {
	APIKey       string `json:"apiKey" required:"true"`
	BaseCurrency string `json:"baseCurrency" required:"true"`
	RateAt       string `json:"rateAt" required:"true" enum:"EOD_PRIOR"`
	AccountType  string `json:"accountType" required:"true" enum:"DEVELOPER|ENTERPRISE|UNLIMITED"`
}

// currency converts the transaction and item amounts into the base currency at the
// end-of-day rate of the day before the collector timestamp (Open Exchange Rates).
type currency struct {
	in      Info
	base    string
	apiKey  string
	paid    bool // the account may ask for rates in another base than USD
	api     string
	client  *http.Client
	timeout time.Duration
	rates   *lruCache[oerRates]
}

type oerRates struct {
	Base  string             `json:"base"`
	Rates map[string]float64 `json:"rates"`
}

func buildCurrency(b *builder) (enrichment, error) {
	var c currencyConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	if len(c.BaseCurrency) != 3 || strings.ToUpper(c.BaseCurrency) != c.BaseCurrency {
		return nil, fmt.Errorf("parameters.baseCurrency: %q is not an ISO 4217 code", c.BaseCurrency)
	}
	api := b.deps.CurrencyAPI
	if api == "" {
		api = DefaultCurrencyAPI
	}
	return &currency{in: b.info, base: c.BaseCurrency, apiKey: c.APIKey, paid: c.AccountType != "DEVELOPER",
		api: strings.TrimSuffix(api, "/"), client: b.deps.HTTPClient, timeout: 10 * time.Second,
		rates: newLRU[oerRates](64, 0, b.deps.Now)}, nil
}

func (e *currency) info() Info { return e.in }

const currencyID = "currency-conversion"

func (e *currency) enrich(ctx context.Context, st *state) {
	f := &st.ev.Fields
	f[event.BaseCurrency] = e.base
	trCur, tiCur := f[event.TrCurrency], f[event.TiCurrency]
	trAny := f[event.TrTotal] != "" || f[event.TrTax] != "" || f[event.TrShipping] != ""
	tiAny := f[event.TiPrice] != ""
	if (trCur == "" || !trAny) && (tiCur == "" || !tiAny) {
		return
	}
	if st.raw.tstamp.IsZero() {
		st.fail(e.in, currencyID, InputData{Field: "collector_tstamp", Expectation: "Collector timestamp missing"})
		return
	}
	day := st.raw.tstamp.UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	rates, err := e.ratesFor(ctx, day)
	if err != nil {
		if ctx.Err() == nil {
			st.fail(e.in, currencyID, Simple{Error: err.Error()})
		}
		return
	}
	convert := func(cur string, src, dst event.Field, field string) bool {
		if f[src] == "" {
			return true
		}
		v, ok := rates.convert(f[src], cur, e.base)
		if !ok {
			val := cur
			st.fail(e.in, currencyID, InputData{Field: field, Value: &val, Expectation: "Unknown currency '" + cur + "'"})
			return false
		}
		f[dst] = v
		return true
	}
	if trCur != "" && trAny {
		_ = convert(trCur, event.TrTotal, event.TrTotalBase, "tr_currency") &&
			convert(trCur, event.TrTax, event.TrTaxBase, "tr_currency") &&
			convert(trCur, event.TrShipping, event.TrShippingBase, "tr_currency")
	}
	if tiCur != "" && tiAny {
		convert(tiCur, event.TiPrice, event.TiPriceBase, "ti_currency")
	}
}

func (e *currency) ratesFor(ctx context.Context, day string) (oerRates, error) {
	if r, ok := e.rates.get(day); ok {
		return r, nil
	}
	q := url.Values{"app_id": {e.apiKey}}
	if e.paid {
		q.Set("base", e.base)
	}
	u := e.api + "/historical/" + day + ".json?" + q.Encode()
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return oerRates{}, err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return oerRates{}, fmt.Errorf("exchange rates for %s: %w", day, redactErr(err, e.apiKey))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return oerRates{}, fmt.Errorf("exchange rates for %s: %w", day, err)
	}
	if resp.StatusCode != http.StatusOK {
		return oerRates{}, fmt.Errorf("exchange rates for %s: HTTP status %s", day, resp.Status)
	}
	var r oerRates
	if err := json.Unmarshal(body, &r); err != nil || len(r.Rates) == 0 {
		return oerRates{}, fmt.Errorf("exchange rates for %s: unexpected answer", day)
	}
	if r.Base == "" {
		r.Base = "USD"
	}
	r.Rates[r.Base] = 1
	e.rates.put(day, r)
	return r, nil
}

// convert converts the decimal text amount from one currency to another, rounded half-even
// to the target currency's minor unit.
func (r oerRates) convert(amount, from, to string) (string, bool) {
	rf, okf := r.Rates[from]
	rt, okt := r.Rates[to]
	if !okf || !okt || rf == 0 {
		return "", false
	}
	a, ok := new(big.Float).SetPrec(128).SetString(amount)
	if !ok {
		return "", false
	}
	a.Mul(a, new(big.Float).SetPrec(128).SetFloat64(rt))
	a.Quo(a, new(big.Float).SetPrec(128).SetFloat64(rf))
	digits := minorUnits(to)
	// Half-even rounding at `digits` decimals.
	scale := new(big.Float).SetPrec(128).SetFloat64(1)
	for range digits {
		scale.Mul(scale, big.NewFloat(10))
	}
	a.Mul(a, scale)
	i, _ := a.Int(nil)
	frac := new(big.Float).Sub(a, new(big.Float).SetInt(i))
	half := big.NewFloat(0.5)
	if a.Sign() < 0 {
		frac.Neg(frac)
	}
	if c := frac.Cmp(half); c > 0 || c == 0 && i.Bit(0) == 1 {
		if a.Sign() < 0 {
			i.Sub(i, big.NewInt(1))
		} else {
			i.Add(i, big.NewInt(1))
		}
	}
	s := new(big.Rat).SetFrac(i, pow10(digits)).FloatString(digits)
	return s, true
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// minorUnits is the number of decimals of a currency (ISO 4217).
func minorUnits(code string) int {
	switch code {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// redactErr hides a secret (an API key in a URL) from an error message.
func redactErr(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), secret, "…"))
}
