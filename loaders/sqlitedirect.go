package loaders

import (
	"fmt"
	"math"
	"reflect"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDirect runs the writer's multi-row event INSERTs through SQLite's C API on the
// driver's own connection, instead of through the driver's statement.
//
// The driver binds each text value on its own: it allocates C memory, copies the
// value, binds it, and after the step binds NULL over it and frees the memory; it also
// asks SQLite for every parameter's name. Each of those calls takes the connection's
// mutex. For a 32-row INSERT of browser events that is over a thousand values, and it
// was about 38 % of the writer's instructions. Here the text values of a statement are
// copied into C memory of that statement and bound by position with SQLITE_STATIC: one
// bind call per value, no allocation.
//
// Even so a bind call costs some 350 instructions (mutex, checks, the Mem's release
// and set-up), and many values of a row are those of the row the statement stored
// 32 rows earlier: the tracker's and the collector's versions, the platform, the
// load time, the user agent's columns, often the user. SQLite keeps a statement's
// bindings across sqlite3_reset, so exec binds only the parameters whose value
// changed; an unchanged text value is still in the statement's memory, where its
// binding points.
//
// The driver does not hand out its database handle, so sqliteHandle reads it from the
// connection's first two fields, after checking with reflect that they are what this
// code expects (the driver's version is pinned in go.mod, and TestSQLiteDirectHandle
// fails if an upgrade changes them). When they are not, the writer uses the driver.
type sqliteDirect struct {
	// own is the libc thread state of the C memory; the SQLite calls run on the
	// connection's own.
	own *libc.TLS
	// out receives the statement handle of sqlite3_prepare_v3.
	out uintptr
	// stmts are the prepared statements, on the connection the store's rawOwner is.
	stmts map[string]*directStmt
	// conn is the connection db and tls were read from (sqliteHandle's reflection
	// is done once per connection, not once per statement); ok is false when its
	// layout was not the expected one.
	conn any
	db   uintptr
	tls  *libc.TLS
	ok   bool
}

// directStmt is a prepared statement and what its parameters are bound to.
type directStmt struct {
	p uintptr
	// block is C memory its text values are copied into; mem views it. Each
	// parameter that was bound to text has a slot in it; top is where the next new
	// slot goes. total is the room the text values of the last execution took.
	block uintptr
	mem   []byte
	top   int
	total int
	slots []bindSlot
}

// bindSlot is what exec last bound to one parameter.
type bindSlot struct {
	kind uint8
	// n is the length of a text value, at mem[off:]; cap is the room of the
	// parameter's slot in mem (0: none), kept when it is bound to something else.
	off, n, cap int
	// num holds an int64 value, or a float64's bits.
	num uint64
}

// What a parameter is bound to. A parameter whose binding is not known (after an
// error, or while its slot moves) is bound again by the next execution.
const (
	boundUnknown uint8 = iota
	boundNull
	boundInt
	boundFloat
	boundText
)

// sqliteHandle returns the database handle and libc thread state of a connection of
// modernc.org/sqlite, and false when dc does not have the expected layout.
func sqliteHandle(dc any) (uintptr, *libc.TLS, bool) {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return 0, nil, false
	}
	e := v.Elem()
	t := e.Type()
	if t.Kind() != reflect.Struct || t.PkgPath() != "modernc.org/sqlite" || t.Name() != "conn" || t.NumField() < 2 {
		return 0, nil, false
	}
	if f := t.Field(0); f.Name != "db" || f.Type.Kind() != reflect.Uintptr {
		return 0, nil, false
	}
	if f := t.Field(1); f.Name != "tls" || f.Type != reflect.TypeFor[*libc.TLS]() {
		return 0, nil, false
	}
	db := uintptr(e.Field(0).Uint())
	tls := (*libc.TLS)(e.Field(1).UnsafePointer())
	return db, tls, db != 0 && tls != nil
}

// handle returns sqliteHandle(dc), read once per connection.
func (d *sqliteDirect) handle(dc any) (uintptr, *libc.TLS, bool) {
	if dc != d.conn {
		d.db, d.tls, d.ok = sqliteHandle(dc)
		d.conn = dc
	}
	return d.db, d.tls, d.ok
}

// cMem returns the address of C memory as a pointer (C memory is outside Go's heap).
func cMem(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// directValues reports whether every value of args is of a type exec binds.
func directValues(args []any) bool {
	for _, v := range args {
		switch v.(type) {
		case nil, int64, float64, string:
		default:
			return false
		}
	}
	return true
}

// slotSize is the room a slot is given for a text value of n bytes and its NUL: a
// little over, so that a slightly longer value fits in the next time.
func slotSize(n int) int { return (n + 1 + 15) &^ 15 }

// layout makes room for a new slot of need bytes in st's block. When the block has
// none left (or is much too large for total, the bytes all of the execution's text
// values need), it replaces the block with one of twice total, and every text
// binding is to be made again.
func (d *sqliteDirect) layout(st *directStmt, need, total int) error {
	if st.top+need <= len(st.mem) && (len(st.mem) <= 4<<20 || total >= len(st.mem)/4) {
		return nil
	}
	if d.own == nil {
		d.own = libc.NewTLS()
	}
	n := max(2*total, 4<<10)
	p := libc.Xmalloc(d.own, libc.Tsize_t(n))
	if p == 0 {
		return fmt.Errorf("allocating %d bytes for binding values: out of memory", n)
	}
	for i := range st.slots {
		sl := &st.slots[i]
		if sl.kind == boundText {
			// Its binding points into the old block: it must not be kept.
			sl.kind = boundUnknown
		}
		sl.cap = 0
	}
	if st.block != 0 {
		libc.Xfree(d.own, st.block)
	}
	st.block, st.mem, st.top = p, unsafe.Slice((*byte)(cMem(p)), n), 0
	return nil
}

// prepare returns the statement for key on db, preparing query the first time.
func (d *sqliteDirect) prepare(tls *libc.TLS, db uintptr, key []byte, query func() string) (*directStmt, error) {
	if st, ok := d.stmts[string(key)]; ok {
		return st, nil
	}
	if len(d.stmts) >= 128 {
		d.finalize(tls)
	}
	if d.out == 0 {
		if d.own == nil {
			d.own = libc.NewTLS()
		}
		if d.out = libc.Xcalloc(d.own, 1, 8); d.out == 0 {
			return nil, fmt.Errorf("preparing an insert: out of memory")
		}
	}
	z, err := libc.CString(query())
	if err != nil {
		return nil, fmt.Errorf("preparing an insert: %w", err)
	}
	defer libc.Xfree(d.own, z)
	*(*uintptr)(cMem(d.out)) = 0
	if rc := sqlite3.Xsqlite3_prepare_v3(tls, db, z, -1, sqlite3.SQLITE_PREPARE_PERSISTENT, d.out, 0); rc != sqlite3.SQLITE_OK {
		return nil, sqliteError("preparing an insert", directError(tls, db, rc))
	}
	p := *(*uintptr)(cMem(d.out))
	if p == 0 {
		return nil, permanent(fmt.Errorf("preparing an insert: empty statement"))
	}
	// A new statement's parameters are NULL.
	st := &directStmt{p: p, slots: make([]bindSlot, sqlite3.Xsqlite3_bind_parameter_count(tls, p))}
	for i := range st.slots {
		st.slots[i].kind = boundNull
	}
	if d.stmts == nil {
		d.stmts = make(map[string]*directStmt)
	}
	d.stmts[string(key)] = st
	return st, nil
}

// exec binds args (all of types directValues accepts) to the parameters 1… of st,
// those whose value changed since its last execution, steps it once and resets it.
func (d *sqliteDirect) exec(tls *libc.TLS, db uintptr, st *directStmt, args []any) error {
	// Every bind call takes the connection's (recursive) mutex and leaves it; held
	// here, that is a check of its owner instead of locking and unlocking it.
	mu := sqlite3.Xsqlite3_db_mutex(tls, db)
	sqlite3.Xsqlite3_mutex_enter(tls, mu)
	err := d.bindStep(tls, db, st, args)
	sqlite3.Xsqlite3_mutex_leave(tls, mu)
	return err
}

// bindStep is exec with the connection's mutex held.
func (d *sqliteDirect) bindStep(tls *libc.TLS, db uintptr, st *directStmt, args []any) error {
	if len(args) != len(st.slots) {
		return permanent(fmt.Errorf("sqlite: %d values for %d parameters", len(args), len(st.slots)))
	}
	// A block much larger than the last execution needed is given back.
	if err := d.layout(st, 0, st.total); err != nil {
		return err
	}
	p := st.p
	total := 0
	for i := 0; i < len(args); i++ {
		v := args[i]
		sl := &st.slots[i]
		idx := int32(i + 1)
		var rc int32
		switch x := v.(type) {
		case nil:
			if sl.kind == boundNull {
				continue
			}
			sl.kind = boundNull
			rc = sqlite3.Xsqlite3_bind_null(tls, p, idx)
		case int64:
			if sl.kind == boundInt && sl.num == uint64(x) {
				continue
			}
			sl.kind, sl.num = boundInt, uint64(x)
			rc = sqlite3.Xsqlite3_bind_int64(tls, p, idx, x)
		case float64:
			// Compared by bits: -0 is not 0, and a NaN is itself.
			b := math.Float64bits(x)
			if sl.kind == boundFloat && sl.num == b {
				continue
			}
			sl.kind, sl.num = boundFloat, b
			rc = sqlite3.Xsqlite3_bind_double(tls, p, idx, x)
		case string:
			total += slotSize(len(x))
			if sl.holds(st.mem, x) {
				continue
			}
			if len(x) >= sl.cap {
				c := slotSize(len(x))
				if st.top+c > len(st.mem) {
					// No room left: a new block, and every text value is bound
					// again, from the first parameter.
					if err := d.layout(st, c, textSize(args)); err != nil {
						return err
					}
					i, total = -1, 0
					continue
				}
				sl.off, sl.cap = st.top, c
				st.top += c
			}
			// NUL-terminated, as the driver's copy is.
			copy(st.mem[sl.off:], x)
			st.mem[sl.off+len(x)] = 0
			sl.kind, sl.n = boundText, len(x)
			rc = sqlite3.Xsqlite3_bind_text(tls, p, idx, st.block+uintptr(sl.off), int32(len(x)), 0)
		default:
			return permanent(fmt.Errorf("sqlite: cannot bind a %T", v))
		}
		if rc != sqlite3.SQLITE_OK {
			sl.kind = boundUnknown
			return directError(tls, db, rc)
		}
	}
	st.total = total
	rc := sqlite3.Xsqlite3_step(tls, p)
	var err error
	if rc != sqlite3.SQLITE_DONE {
		err = directError(tls, db, rc)
		// A step leaves the bindings as they are; the next execution binds every
		// value anyway rather than count on it after a failure.
		for i := range st.slots {
			st.slots[i].kind = boundUnknown
		}
	}
	sqlite3.Xsqlite3_reset(tls, p)
	return err
}

// textSize is the room the text values of args take in a new block.
func textSize(args []any) int {
	n := 0
	for _, v := range args {
		if x, ok := v.(string); ok {
			n += slotSize(len(x))
		}
	}
	return n
}

// holds reports whether the parameter is bound to the text x, in mem.
func (sl *bindSlot) holds(mem []byte, x string) bool {
	return sl.kind == boundText && sl.n == len(x) && string(mem[sl.off:sl.off+sl.n]) == x
}

// finalize finalizes the prepared statements. tls is the thread state of their
// connection, which must still be open.
func (d *sqliteDirect) finalize(tls *libc.TLS) {
	for k, st := range d.stmts {
		sqlite3.Xsqlite3_finalize(tls, st.p)
		d.release(st)
		delete(d.stmts, k)
	}
}

// forget drops the prepared statements without finalizing them: their connection was
// closed.
func (d *sqliteDirect) forget() {
	for k, st := range d.stmts {
		d.release(st)
		delete(d.stmts, k)
	}
	d.conn, d.db, d.tls, d.ok = nil, 0, nil, false
}

// release frees the C memory of a statement that is finalized or gone.
func (d *sqliteDirect) release(st *directStmt) {
	if st.block != 0 {
		libc.Xfree(d.own, st.block)
		st.block, st.mem = 0, nil
	}
}

// free releases the C memory. The statements must be finalized or forgotten first.
func (d *sqliteDirect) free() {
	if d.own == nil {
		return
	}
	if d.out != 0 {
		libc.Xfree(d.own, d.out)
		d.out = 0
	}
	d.own.Close()
	d.own = nil
}

// sqliteCodeError is an error of SQLite met on the direct path, with the same message
// and code the driver's *sqlite.Error would have.
type sqliteCodeError struct {
	msg  string
	code int
}

func (e *sqliteCodeError) Error() string { return e.msg }

// Code returns SQLite's (extended) result code.
func (e *sqliteCodeError) Code() int { return e.code }

// directError describes rc as the driver does.
func directError(tls *libc.TLS, db uintptr, rc int32) error {
	str := libc.GoString(sqlite3.Xsqlite3_errstr(tls, rc))
	var busy string
	if rc == sqlite3.SQLITE_BUSY {
		busy = " (SQLITE_BUSY)"
	}
	if msg := libc.GoString(sqlite3.Xsqlite3_errmsg(tls, db)); msg != str {
		return &sqliteCodeError{msg: fmt.Sprintf("%s: %s (%v)%s", str, msg, rc, busy), code: int(rc)}
	}
	return &sqliteCodeError{msg: fmt.Sprintf("%s (%v)%s", str, rc, busy), code: int(rc)}
}
