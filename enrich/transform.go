package enrich

import (
	"unsafe"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
)

// parseError is an atomic field that could not be converted (AtomicError.ParseError): the
// tracker parameter (or collector_tstamp) and the message.
type parseError struct {
	field string
	msg   string
}

// transformed holds what Transform leaves aside for later steps.
type transformed struct {
	contexts *jsonParam // co / cx, the last one given
	unstruct *jsonParam // ue_pr / ue_px, the last one given
	errs     []parseError
}

// jsonParam is the value of co, cx, ue_pr or ue_px as sent.
type jsonParam struct {
	text   string
	base64 bool // cx and ue_px: the JSON is base64-encoded

	// decoded is what json returned when text is exactly the unpadded base64url text
	// of it (valid UTF-8 too): the raw_event column's compact form takes it rather
	// than decoding text again.
	decoded string
}

// json returns the JSON text, decoded as Snowplow decodes cx and ue_px.
func (j *jsonParam) json() string {
	if !j.base64 {
		return j.text
	}
	// The decoded bytes are never written again: they become the string without a copy.
	b, exact := jvm.DecodeBase64Exact(make([]byte, 0, len(j.text)*3/4+3), j.text)
	s := jvm.ValidUTF8(unsafe.String(unsafe.SliceData(b), len(b)))
	if exact && len(s) == len(b) && unsafe.StringData(s) == unsafe.SliceData(b) {
		j.decoded = s
	}
	return s
}

// decodedParam is j's text with its decoding, when json found it exact (else zero).
func (j *jsonParam) decodedParam() event.DecodedParam {
	if j == nil || j.decoded == "" {
		return event.DecodedParam{}
	}
	return event.DecodedParam{Value: j.text, Bytes: j.decoded}
}

// transform maps the tracker parameters of one event onto ev as Snowplow's
// Transform.transform: in parameter order (a later parameter for the same field wins),
// parameters without a value ignored, every conversion failure collected, tnuid applied
// last.
// memo (nil: none) keeps the conversions the events of a record repeat.
func transform(ps params, ev *event.EnrichedEvent, memo *convMemo) transformed {
	var t transformed
	var tnuid *string
	f := &ev.Fields
	for i := range ps {
		kv := &ps[i]
		if kv.Value == nil {
			continue
		}
		v := *kv.Value
		fail := func(msg string) { t.errs = append(t.errs, parseError{kv.Name, msg}) }
		str := func(fld event.Field) { f[fld] = tsvSafe(v) }
		conv := func(fld event.Field, c func(string) (string, string)) {
			out, msg := c(v)
			if msg != "" {
				fail(msg)
				return
			}
			f[fld] = out
		}
		dims := func(wf, hf event.Field) {
			w, h, msg := memo.dims(v)
			if msg != "" {
				fail(msg)
				return
			}
			f[wf], f[hf] = w, h
		}
		switch kv.Name {
		case "tnuid":
			s := tsvSafe(v)
			tnuid = &s
		case "co", "ue_pr", "cx", "ue_px":
			jp := &jsonParam{text: v, base64: kv.Name == "cx" || kv.Name == "ue_px"}
			if kv.Name == "co" || kv.Name == "cx" {
				t.contexts = jp
			} else {
				t.unstruct = jp
			}
		case "e":
			if et, ok := eventType(v); ok {
				f[event.Event] = et
			} else {
				fail(msgNotEvent)
			}
		case "ip":
			f[event.UserIPAddress] = firstIP(v)
		case "aid":
			str(event.AppID)
		case "p":
			if validPlatform(v) {
				f[event.Platform] = v
			} else {
				fail(msgNotPlatform)
			}
		case "tid":
			conv(event.TxnID, convInt)
		case "uid":
			str(event.UserID)
		case "duid":
			str(event.DomainUserID)
		case "nuid":
			str(event.NetworkUserID)
		case "ua":
			str(event.UserAgent)
		case "fp":
			str(event.UserFingerprint)
		case "vid":
			conv(event.DomainSessionIdx, convInt)
		case "sid":
			conv(event.DomainSessionID, convUUID)
		case "dtm":
			conv(event.DvceCreatedTstamp, convTstamp)
		case "ttm":
			conv(event.TrueTstamp, convTstamp)
		case "stm":
			conv(event.DvceSentTstamp, memo.sentTstamp)
		case "tna":
			str(event.NameTracker)
		case "tv":
			str(event.VTracker)
		case "cv":
			str(event.VCollector)
		case "lang":
			str(event.BrLang)
		case "f_pdf":
			conv(event.BrFeaturesPDF, convBool)
		case "f_fla":
			conv(event.BrFeaturesFlash, convBool)
		case "f_java":
			conv(event.BrFeaturesJava, convBool)
		case "f_dir":
			conv(event.BrFeaturesDirector, convBool)
		case "f_qt":
			conv(event.BrFeaturesQuickTime, convBool)
		case "f_realp":
			conv(event.BrFeaturesRealPlayer, convBool)
		case "f_wma":
			conv(event.BrFeaturesWindowsMedia, convBool)
		case "f_gears":
			conv(event.BrFeaturesGears, convBool)
		case "f_ag":
			conv(event.BrFeaturesSilverlight, convBool)
		case "cookie":
			conv(event.BrCookies, convBool)
		case "res":
			dims(event.DvceScreenWidth, event.DvceScreenHeight)
		case "cd":
			str(event.BrColorDepth)
		case "tz":
			str(event.OSTimezone)
		case "refr":
			str(event.PageReferrer)
		case "url":
			str(event.PageURL)
		case "page":
			str(event.PageTitle)
		case "cs":
			str(event.DocCharset)
		case "ds":
			dims(event.DocWidth, event.DocHeight)
		case "vp":
			dims(event.BrViewWidth, event.BrViewHeight)
		case "eid":
			conv(event.EventID, convUUID)
		case "ev_ca", "se_ca":
			str(event.SeCategory)
		case "ev_ac", "se_ac":
			str(event.SeAction)
		case "ev_la", "se_la":
			str(event.SeLabel)
		case "ev_pr", "se_pr":
			str(event.SeProperty)
		case "ev_va", "se_va":
			conv(event.SeValue, convDecimal)
		case "tr_id":
			str(event.TrOrderID)
		case "tr_af":
			str(event.TrAffiliation)
		case "tr_tt":
			conv(event.TrTotal, convDecimal)
		case "tr_tx":
			conv(event.TrTax, convDecimal)
		case "tr_sh":
			conv(event.TrShipping, convDecimal)
		case "tr_ci":
			str(event.TrCity)
		case "tr_st":
			str(event.TrState)
		case "tr_co":
			str(event.TrCountry)
		case "ti_id":
			str(event.TiOrderID)
		case "ti_sk":
			str(event.TiSku)
		case "ti_na", "ti_nm":
			str(event.TiName)
		case "ti_ca":
			str(event.TiCategory)
		case "ti_pr":
			conv(event.TiPrice, convDecimal)
		case "ti_qu":
			conv(event.TiQuantity, convInt)
		case "pp_mix":
			conv(event.PpXOffsetMin, convInt)
		case "pp_max":
			conv(event.PpXOffsetMax, convInt)
		case "pp_miy":
			conv(event.PpYOffsetMin, convInt)
		case "pp_may":
			conv(event.PpYOffsetMax, convInt)
		case "tr_cu":
			str(event.TrCurrency)
		case "ti_cu":
			str(event.TiCurrency)
		}
	}
	if tnuid != nil {
		f[event.NetworkUserID] = *tnuid
	}
	return t
}

// convMemo remembers, within a record, conversions of the texts every event of a batch
// repeats: stm (the batch was sent once) and the screen, window and page dimensions
// (one browser). The conversions are functions of the text alone; failures are not
// kept. The zero value is ready; methods on nil convert every time.
type convMemo struct {
	sent, sentOut string
	dimsIn        [3]string
	dimsOut       [3][2]string
	ndims         int
	millisIn      [2]string
	millisOut     [2]int64
	nmillis       int
}

// sentTstamp is convTstamp.
func (m *convMemo) sentTstamp(s string) (string, string) {
	if m != nil && m.sentOut != "" && s == m.sent {
		return m.sentOut, ""
	}
	out, msg := convTstamp(s)
	if m != nil && msg == "" {
		m.sent, m.sentOut = s, out
	}
	return out, msg
}

// dims is convDims.
func (m *convMemo) dims(s string) (w, h, msg string) {
	if m != nil {
		for i := range m.ndims {
			if m.dimsIn[i] == s {
				return m.dimsOut[i][0], m.dimsOut[i][1], ""
			}
		}
	}
	w, h, msg = convDims(s)
	if m != nil && msg == "" && m.ndims < len(m.dimsIn) {
		m.dimsIn[m.ndims], m.dimsOut[m.ndims] = s, [2]string{w, h}
		m.ndims++
	}
	return w, h, msg
}

// parseMillis is jvm.ParseMillis, for derivedTstamp: the sent and collector
// timestamps of a record's events are the same texts.
func (m *convMemo) parseMillis(s string) (int64, bool) {
	for i := range m.nmillis {
		if m.millisIn[i] == s {
			return m.millisOut[i], true
		}
	}
	ms, ok := jvm.ParseMillis(s)
	if ok && m.nmillis < len(m.millisIn) {
		m.millisIn[m.nmillis], m.millisOut[m.nmillis] = s, ms
		m.nmillis++
	}
	return ms, ok
}
