package enrichments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// decodeStrict decodes data into v (a pointer to a struct) and checks it against v's type:
// unknown keys, missing keys tagged `required:"true"`, string values outside `enum:"A|B"`
// and wrong JSON types are all reported, each with its path under root.
func decodeStrict(data []byte, v any, root string) error {
	return joinErrs(decodeStrictList(data, v, root))
}

func decodeStrictList(data []byte, v any, root string) []error {
	var tree any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return []error{fmt.Errorf("%s: invalid JSON: %w", root, err)}
	}
	var errs []error
	check(tree, reflect.TypeOf(v).Elem(), root, &errs)
	if len(errs) > 0 {
		return errs
	}
	if err := json.Unmarshal(data, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return []error{fmt.Errorf("%s.%s: want %s, got JSON %s", root, ute.Field, ute.Type, ute.Value)}
		}
		return []error{fmt.Errorf("%s: %w", root, err)}
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
var rawMessageType = reflect.TypeFor[json.RawMessage]()

// check walks a decoded JSON value along the Go type it will be decoded into.
func check(val any, t reflect.Type, path string, errs *[]error) {
	add := func(format string, args ...any) {
		*errs = append(*errs, fmt.Errorf("%s: "+format, append([]any{path}, args...)...))
	}
	for t.Kind() == reflect.Pointer {
		if val == nil {
			return
		}
		t = t.Elem()
	}
	if t == rawMessageType || t.Kind() == reflect.Interface {
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return // the type checks itself
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := val.(map[string]any)
		if !ok {
			add("want an object, got %s", jsonKind(val))
			return
		}
		known := map[string]bool{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			known[name] = true
			sub, present := obj[name]
			if !present {
				if f.Tag.Get("required") == "true" {
					add("missing required key %q", name)
				}
				continue
			}
			if enum := f.Tag.Get("enum"); enum != "" && sub != nil {
				allowed := strings.Split(enum, "|")
				if s, ok := sub.(string); !ok || !slices.Contains(allowed, s) {
					*errs = append(*errs, fmt.Errorf("%s.%s: %s is not one of %s", path, name, jsonText(sub), strings.Join(allowed, ", ")))
					continue
				}
			}
			check(sub, f.Type, path+"."+name, errs)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			if !known[k] {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			add("unknown key %q", k)
		}
	case reflect.Slice:
		if val == nil {
			return
		}
		arr, ok := val.([]any)
		if !ok {
			add("want an array, got %s", jsonKind(val))
			return
		}
		for i, el := range arr {
			check(el, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.Map:
		if val == nil {
			return
		}
		obj, ok := val.(map[string]any)
		if !ok {
			add("want an object, got %s", jsonKind(val))
			return
		}
		for k, el := range obj {
			check(el, t.Elem(), path+"."+k, errs)
		}
	case reflect.String:
		if _, ok := val.(string); !ok && val != nil {
			add("want a string, got %s", jsonKind(val))
		}
	case reflect.Bool:
		if _, ok := val.(bool); !ok && val != nil {
			add("want a boolean, got %s", jsonKind(val))
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := val.(json.Number)
		if !ok {
			if val != nil {
				add("want an integer, got %s", jsonKind(val))
			}
			return
		}
		if _, err := n.Int64(); err != nil {
			add("want an integer, got %s", n)
		}
	case reflect.Float64:
		if _, ok := val.(json.Number); !ok && val != nil {
			add("want a number, got %s", jsonKind(val))
		}
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// orderedStrings is a JSON object of strings that keeps its key order.
type orderedStrings []kv

type kv struct{ key, value string }

// UnmarshalJSON reads an object whose values are all strings.
func (o *orderedStrings) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("want an object of strings")
	}
	var out orderedStrings
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("key %q: want a string, got %s", kt, jsonKind(v))
		}
		key := kt.(string)
		replaced := false
		for i := range out {
			if out[i].key == key {
				out[i].value, replaced = s, true
			}
		}
		if !replaced {
			out = append(out, kv{key, s})
		}
	}
	*o = out
	return nil
}
