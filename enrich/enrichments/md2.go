package enrichments

import "hash"

// md2 is the MD2 message digest (RFC 1319), offered by the PII enrichment as in Snowplow.
// It is long broken as a cryptographic hash; it is here only for configurations that name it.
type md2 struct {
	state [48]byte
	sum   [16]byte // checksum
	buf   [16]byte
	n     int
}

// md2S is the RFC 1319 substitution table, a permutation of 0..255 built from the digits
// of pi.
var md2S = [256]byte{
	41, 46, 67, 201, 162, 216, 124, 1, 61, 54, 84, 161, 236, 240, 6, 19,
	98, 167, 5, 243, 192, 199, 115, 140, 152, 147, 43, 217, 188, 76, 130, 202,
	30, 155, 87, 60, 253, 212, 224, 22, 103, 66, 111, 24, 138, 23, 229, 18,
	190, 78, 196, 214, 218, 158, 222, 73, 160, 251, 245, 142, 187, 47, 238, 122,
	169, 104, 121, 145, 21, 178, 7, 63, 148, 194, 16, 137, 11, 34, 95, 33,
	128, 127, 93, 154, 90, 144, 50, 39, 53, 62, 204, 231, 191, 247, 151, 3,
	255, 25, 48, 179, 72, 165, 181, 209, 215, 94, 146, 42, 172, 86, 170, 198,
	79, 184, 56, 210, 150, 164, 125, 182, 118, 252, 107, 226, 156, 116, 4, 241,
	69, 157, 112, 89, 100, 113, 135, 32, 134, 91, 207, 101, 230, 45, 168, 2,
	27, 96, 37, 173, 174, 176, 185, 246, 28, 70, 97, 105, 52, 64, 126, 15,
	85, 71, 163, 35, 221, 81, 175, 58, 195, 92, 249, 206, 186, 197, 234, 38,
	44, 83, 13, 110, 133, 40, 132, 9, 211, 223, 205, 244, 65, 129, 77, 82,
	106, 220, 55, 200, 108, 193, 171, 250, 36, 225, 123, 8, 12, 189, 177, 74,
	120, 136, 149, 139, 227, 99, 232, 109, 233, 203, 213, 254, 59, 0, 29, 57,
	242, 239, 183, 14, 102, 88, 208, 228, 166, 119, 114, 248, 235, 117, 75, 10,
	49, 68, 80, 180, 143, 237, 31, 26, 219, 153, 141, 51, 159, 17, 131, 20,
}

func newMD2() hash.Hash { return &md2{} }

func (d *md2) Reset()         { *d = md2{} }
func (d *md2) Size() int      { return 16 }
func (d *md2) BlockSize() int { return 16 }

func (d *md2) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		c := copy(d.buf[d.n:], p)
		d.n += c
		p = p[c:]
		if d.n == 16 {
			d.block(d.buf[:])
			d.n = 0
		}
	}
	return n, nil
}

func (d *md2) block(b []byte) {
	l := d.sum[15]
	for j := range 16 {
		d.sum[j] ^= md2S[b[j]^l]
		l = d.sum[j]
	}
	for j := range 16 {
		d.state[16+j] = b[j]
		d.state[32+j] = d.state[16+j] ^ d.state[j]
	}
	var t byte
	for j := range 18 {
		for k := range 48 {
			d.state[k] ^= md2S[t]
			t = d.state[k]
		}
		t += byte(j)
	}
}

func (d *md2) Sum(in []byte) []byte {
	c := *d
	pad := 16 - c.n
	p := make([]byte, pad)
	for i := range p {
		p[i] = byte(pad)
	}
	c.Write(p)
	sum := c.sum
	c.Write(sum[:])
	return append(in, c.state[:16]...)
}
