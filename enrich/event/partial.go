package event

// partialInt lists the fields that PartiallyEnrichedEvent holds as JSON integers (the
// booleans among them as 0/1); geo_latitude and geo_longitude are numbers; every other field,
// txn_id and the decimals included, is a string.
func partialInt(f Field) bool {
	switch f {
	case DomainSessionIdx, PageURLPort, RefrURLPort, TiQuantity,
		PpXOffsetMin, PpXOffsetMax, PpYOffsetMin, PpYOffsetMax,
		BrViewWidth, BrViewHeight, DvceScreenWidth, DvceScreenHeight, DocWidth, DocHeight:
		return true
	}
	return f.Kind() == KindBool
}

// AppendPartialJSON appends the event as the PartiallyEnrichedEvent object of schema_violations
// and enrichment_failures bad rows: all NumFields names as keys in field order, null for empty
// fields; JSON integers for domain_sessionidx, the ports, ti_quantity, pp_*, the widths and
// heights, and 0/1 for the booleans; JSON numbers for geo_latitude and geo_longitude; strings
// for everything else (timestamps in TSV form, decimals as text, the JSON columns as JSON
// strings). A numeric field whose text is not a number is written as null, so the object
// always matches the bad-row schemas.
func (e *EnrichedEvent) AppendPartialJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i := range e.Fields {
		f := Field(i)
		v := e.Fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, f.Name()...)
		dst = append(dst, '"', ':')
		switch {
		case v == "":
			dst = append(dst, "null"...)
		case partialInt(f):
			if isPlainInt(v) {
				dst = append(dst, v...)
			} else {
				dst = append(dst, "null"...)
			}
		case f == GeoLatitude || f == GeoLongitude:
			if isJSONNumber(v) {
				dst = append(dst, v...)
			} else {
				dst = append(dst, "null"...)
			}
		default:
			dst = AppendJSONString(dst, v)
		}
	}
	return append(dst, '}')
}
