package loaders

import (
	"fmt"
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
// was about 38 % of the writer's instructions. Here the values of one statement are
// copied into one block of C memory that lives from one statement to the next, and
// bound by position with SQLITE_STATIC: one bind call per value, no allocation.
//
// The driver does not hand out its database handle, so sqliteHandle reads it from the
// connection's first two fields, after checking with reflect that they are what this
// code expects (the driver's version is pinned in go.mod, and TestSQLiteDirectHandle
// fails if an upgrade changes them). When they are not, the writer uses the driver.
type sqliteDirect struct {
	// own is the libc thread state of the block's allocations; the SQLite calls run
	// on the connection's own.
	own *libc.TLS
	// block is C memory the text and blob values of one statement are copied into;
	// mem views it. Bindings left in a statement after its step point into it: every
	// execution binds every parameter again before it steps, so a stale one is never
	// read.
	block uintptr
	mem   []byte
	// out receives the statement handle of sqlite3_prepare_v3.
	out uintptr
	// stmts are the prepared statements, on the connection the store's rawOwner is.
	stmts map[string]uintptr
}

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

// grow makes the block at least n bytes. A block grown past 4 MiB by a batch of large
// values is given back once a statement needs less than a quarter of it.
func (d *sqliteDirect) grow(n int) error {
	if n <= len(d.mem) && (len(d.mem) <= 4<<20 || n >= len(d.mem)/4) {
		return nil
	}
	if d.own == nil {
		d.own = libc.NewTLS()
	}
	if n > len(d.mem) {
		n = max(n, 2*len(d.mem))
	}
	n = max(n, 64<<10)
	p := libc.Xmalloc(d.own, libc.Tsize_t(n))
	if p == 0 {
		return fmt.Errorf("allocating %d bytes for binding values: out of memory", n)
	}
	if d.block != 0 {
		libc.Xfree(d.own, d.block)
	}
	d.block = p
	d.mem = unsafe.Slice((*byte)(cMem(p)), n)
	return nil
}

// prepare returns the statement for key on db, preparing query the first time.
func (d *sqliteDirect) prepare(tls *libc.TLS, db uintptr, key []byte, query func() string) (uintptr, error) {
	if p, ok := d.stmts[string(key)]; ok {
		return p, nil
	}
	if len(d.stmts) >= 128 {
		d.finalize(tls)
	}
	if d.out == 0 {
		if d.own == nil {
			d.own = libc.NewTLS()
		}
		if d.out = libc.Xcalloc(d.own, 1, 8); d.out == 0 {
			return 0, fmt.Errorf("preparing an insert: out of memory")
		}
	}
	z, err := libc.CString(query())
	if err != nil {
		return 0, fmt.Errorf("preparing an insert: %w", err)
	}
	defer libc.Xfree(d.own, z)
	*(*uintptr)(cMem(d.out)) = 0
	if rc := sqlite3.Xsqlite3_prepare_v3(tls, db, z, -1, sqlite3.SQLITE_PREPARE_PERSISTENT, d.out, 0); rc != sqlite3.SQLITE_OK {
		return 0, sqliteError("preparing an insert", directError(tls, db, rc))
	}
	p := *(*uintptr)(cMem(d.out))
	if p == 0 {
		return 0, permanent(fmt.Errorf("preparing an insert: empty statement"))
	}
	if d.stmts == nil {
		d.stmts = make(map[string]uintptr)
	}
	d.stmts[string(key)] = p
	return p, nil
}

// exec binds args (all of types directValues accepts) to the parameters 1… of p,
// steps it once and resets it.
func (d *sqliteDirect) exec(tls *libc.TLS, db, p uintptr, args []any) error {
	need := 0
	for _, v := range args {
		if s, ok := v.(string); ok {
			need += len(s) + 1
		}
	}
	if err := d.grow(need); err != nil {
		return err
	}
	off := 0
	for i, v := range args {
		idx := int32(i + 1)
		var rc int32
		switch x := v.(type) {
		case nil:
			rc = sqlite3.Xsqlite3_bind_null(tls, p, idx)
		case int64:
			rc = sqlite3.Xsqlite3_bind_int64(tls, p, idx, x)
		case float64:
			rc = sqlite3.Xsqlite3_bind_double(tls, p, idx, x)
		case string:
			// NUL-terminated, as the driver's copy is.
			copy(d.mem[off:], x)
			d.mem[off+len(x)] = 0
			rc = sqlite3.Xsqlite3_bind_text(tls, p, idx, d.block+uintptr(off), int32(len(x)), 0)
			off += len(x) + 1
		default:
			return permanent(fmt.Errorf("sqlite: cannot bind a %T", v))
		}
		if rc != sqlite3.SQLITE_OK {
			return directError(tls, db, rc)
		}
	}
	rc := sqlite3.Xsqlite3_step(tls, p)
	var err error
	if rc != sqlite3.SQLITE_DONE {
		err = directError(tls, db, rc)
	}
	sqlite3.Xsqlite3_reset(tls, p)
	return err
}

// finalize finalizes the prepared statements. tls is the thread state of their
// connection, which must still be open.
func (d *sqliteDirect) finalize(tls *libc.TLS) {
	for k, p := range d.stmts {
		sqlite3.Xsqlite3_finalize(tls, p)
		delete(d.stmts, k)
	}
}

// forget drops the prepared statements without finalizing them: their connection was
// closed.
func (d *sqliteDirect) forget() { clear(d.stmts) }

// free releases the C memory. The statements must be finalized or forgotten first.
func (d *sqliteDirect) free() {
	if d.own == nil {
		return
	}
	if d.block != 0 {
		libc.Xfree(d.own, d.block)
		d.block, d.mem = 0, nil
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
