package enrichments

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/dop251/goja"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// jsTimeLimit bounds one run of process(): a script stuck in a loop fails the event instead
// of stopping the enrich worker.
const jsTimeLimit = 5 * time.Second

type javascriptConfig struct {
	Script string          `json:"script" required:"true"`
	Config json.RawMessage `json:"config"`
}

// javascript runs a user function process(event, params, headers) on every event, as
// Snowplow's JavaScript enrichment does: the event object has a getter and a setter for
// every atomic field (getApp_id(), setApp_id(v), …), getContexts/setContexts,
// getUnstruct_event/setUnstruct_event, getDerived_contexts/eraseDerived_contexts and drop();
// the function may return an array of self-describing JSONs to add as derived contexts.
//
// The engine is goja (ECMAScript 5.1 and much of ES6) instead of Nashorn: scripts that use
// Java interop (Java.type, java.* packages) do not run.
type javascript struct {
	in      Info
	program *goja.Program
	params  any
	pool    sync.Pool // of *jsVM
}

// jsVM is one JavaScript runtime with the script loaded; runtimes are not safe for
// concurrent use, so each goroutine takes one from the pool.
type jsVM struct {
	rt        *goja.Runtime
	process   goja.Callable
	stringify goja.Callable
	evObj     *goja.Object
	params    goja.Value
	st        *state // the event being processed
	changed   bool   // contexts or unstruct_event were set
}

func buildJavaScript(b *builder) (enrichment, error) {
	var c javascriptConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	src, err := decodeLenientBase64(c.Script)
	if err != nil {
		return nil, fmt.Errorf("parameters.script: not base64: %w", err)
	}
	prog, err := goja.Compile("user-defined-script", string(src), false)
	if err != nil {
		return nil, fmt.Errorf("parameters.script: compiling JavaScript: %w", err)
	}
	e := &javascript{in: b.info, program: prog}
	if len(c.Config) > 0 {
		if err := json.Unmarshal(c.Config, &e.params); err != nil {
			return nil, fmt.Errorf("parameters.config: %w", err)
		}
	}
	// Load the script once now so that a script without process() is a configuration error.
	vm, err := e.newVM()
	if err != nil {
		return nil, fmt.Errorf("parameters.script: %w", err)
	}
	e.pool.Put(vm)
	return e, nil
}

// decodeLenientBase64 decodes standard or URL-safe base64, padded or not, ignoring
// whitespace.
func decodeLenientBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r == '+':
			return '-'
		case r == '/':
			return '_'
		}
		return r
	}, s)
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func (e *javascript) newVM() (*jsVM, error) {
	vm := &jsVM{rt: goja.New()}
	if _, err := vm.rt.RunProgram(e.program); err != nil {
		return nil, fmt.Errorf("running the script: %w", err)
	}
	fn, ok := goja.AssertFunction(vm.rt.Get("process"))
	if !ok {
		return nil, errors.New("the script does not define a function process")
	}
	vm.process = fn
	vm.stringify, _ = goja.AssertFunction(vm.rt.Get("JSON").ToObject(vm.rt).Get("stringify"))
	vm.params = vm.rt.ToValue(e.params)
	if e.params == nil {
		vm.params = goja.Null()
	}
	vm.evObj = vm.eventObject()
	return vm, nil
}

// eventObject builds the event API bound to vm.st.
func (vm *jsVM) eventObject() *goja.Object {
	rt := vm.rt
	o := rt.NewObject()
	for i := range event.NumFields {
		f := event.Field(i)
		name := f.Name()
		cap := strings.ToUpper(name[:1]) + name[1:]
		if f.Kind() == event.KindJSON {
			continue
		}
		_ = o.Set("get"+cap, func(goja.FunctionCall) goja.Value { return vm.getField(f) })
		_ = o.Set("set"+cap, func(c goja.FunctionCall) goja.Value {
			vm.st.ev.Fields[f] = jsToField(c.Argument(0), f.Kind())
			return goja.Undefined()
		})
	}
	jsonCol := func(f event.Field) {
		cap := strings.ToUpper(f.Name()[:1]) + f.Name()[1:]
		_ = o.Set("get"+cap, func(goja.FunctionCall) goja.Value {
			if v := vm.st.ev.Fields[f]; v != "" {
				return rt.ToValue(v)
			}
			return goja.Null()
		})
		_ = o.Set("set"+cap, func(c goja.FunctionCall) goja.Value {
			v := c.Argument(0)
			s := ""
			if !goja.IsNull(v) && !goja.IsUndefined(v) {
				s = v.String()
			}
			vm.st.ev.Fields[f] = s
			vm.changed = true
			return goja.Undefined()
		})
	}
	jsonCol(event.Contexts)
	jsonCol(event.UnstructEvent)
	_ = o.Set("getDerived_contexts", func(goja.FunctionCall) goja.Value {
		if len(vm.st.derived) == 0 {
			return goja.Null()
		}
		return rt.ToValue(event.MarshalContexts(vm.st.derived))
	})
	_ = o.Set("eraseDerived_contexts", func(goja.FunctionCall) goja.Value {
		vm.st.derived = vm.st.derived[:0]
		return goja.Undefined()
	})
	_ = o.Set("drop", func(goja.FunctionCall) goja.Value {
		vm.st.drop = true
		return goja.Undefined()
	})
	return o
}

// getField returns an atomic field as the Java event object would: numbers for numeric
// fields, strings otherwise, null when absent.
func (vm *jsVM) getField(f event.Field) goja.Value {
	v := vm.st.ev.Fields[f]
	if v == "" {
		return goja.Null()
	}
	switch f.Kind() {
	case event.KindInt, event.KindBool, event.KindFloat, event.KindDecimal:
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return vm.rt.ToValue(n)
		}
	}
	return vm.rt.ToValue(v)
}

// jsToField converts a value passed to a setter into field text.
func jsToField(v goja.Value, k event.Kind) string {
	if v == nil || goja.IsNull(v) || goja.IsUndefined(v) {
		return ""
	}
	switch x := v.Export().(type) {
	case bool:
		if x {
			if k == event.KindBool {
				return "1"
			}
			return "true"
		}
		if k == event.KindBool {
			return "0"
		}
		return "false"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if k == event.KindInt && x == math.Trunc(x) {
			return strconv.FormatInt(int64(x), 10)
		}
		if k == event.KindFloat {
			return javaFloat(float32(x))
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return tsvSafe(v.String())
}

func (e *javascript) info() Info { return e.in }

func (e *javascript) enrich(_ context.Context, st *state) {
	vm, _ := e.pool.Get().(*jsVM)
	if vm == nil {
		var err error
		if vm, err = e.newVM(); err != nil {
			st.fail(e.in, "javascript-script", Simple{Error: "Evaluating JavaScript script threw an exception: [" + err.Error() + "]"})
			return
		}
	}
	vm.st, vm.changed = st, false
	headers := make([]any, len(st.raw.headers))
	for i, h := range st.raw.headers {
		headers[i] = h
	}
	timer := time.AfterFunc(jsTimeLimit, func() { vm.rt.Interrupt("time limit exceeded") })
	ret, err := vm.process(goja.Undefined(), vm.evObj, vm.params, vm.rt.ToValue(headers))
	interrupted := !timer.Stop()
	vm.rt.ClearInterrupt()
	if vm.changed {
		st.revalidate = true
	}
	vm.st = nil
	if interrupted {
		// An interrupted runtime may be in any state: do not reuse it.
		st.fail(e.in, "javascript-script", Simple{Error: "Evaluating JavaScript script threw an exception: [time limit of " + jsTimeLimit.String() + " exceeded]"})
		return
	}
	defer e.pool.Put(vm)
	if err != nil {
		msg := err.Error()
		var ex *goja.Exception
		if errors.As(err, &ex) {
			msg = ex.Value().String()
		}
		st.fail(e.in, "javascript-script", Simple{Error: "Evaluating JavaScript script threw an exception: [" + msg + "]"})
		return
	}
	if st.drop || ret == nil || goja.IsNull(ret) || goja.IsUndefined(ret) {
		return
	}
	out, err := vm.stringify(goja.Undefined(), ret)
	if err != nil || out == nil || goja.IsUndefined(out) {
		st.fail(e.in, "javascript-script", Simple{Error: "Could not convert object returned from JavaScript script to Json"})
		return
	}
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(out.String()), &arr); err != nil {
		st.fail(e.in, "javascript-script", Simple{Error: "JavaScript script must return an Array; got [" + out.String() + "]"})
		return
	}
	for _, el := range arr {
		sd, err := event.ParseSelfDescribing(el)
		if err != nil {
			st.fail(e.in, "javascript-script", Simple{Error: "Resulting contexts are not self-describing: " + string(el) + ". " + err.Error()})
			return
		}
		st.derived = append(st.derived, event.SelfDescribing{Schema: sd.Schema, Data: append(json.RawMessage(nil), sd.Data...)})
	}
}
