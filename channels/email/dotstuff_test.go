package email

import (
	"bufio"
	"bytes"
	"io"
	"net/textproto"
	"testing"
)

// appendDotStuffed writes what net/textproto's dot writer (the one
// go-mail's Data uses) writes for the same message.
func TestAppendDotStuffedIsTextprotoDotWriter(t *testing.T) {
	for _, msg := range []string{
		"Subject: x\r\n\r\nbody\r\n",
		".leading dot\r\n",
		"a\r\n.\r\n..two\r\n.\r\n",
		"bare\nline feeds\n.dot after a bare one\n",
		"no final line break",
		"mixed\r\nends\n\r\n.\r\nlast",
		"\r\n",
		"\n",
		".",
	} {
		var want bytes.Buffer
		bw := bufio.NewWriter(&want)
		dw := textproto.NewWriter(bw).DotWriter()
		io.WriteString(dw, msg)
		dw.Close()
		if got := appendDotStuffed(nil, []byte(msg)); string(got) != want.String() {
			t.Errorf("%q:\n got %q\nwant %q", msg, got, want.String())
		}
	}
}

func BenchmarkAppendDotStuffed(b *testing.B) {
	msg := bytes.Repeat([]byte("The crackdown on protests in Kazakhstan has become internationalized, =\r\n"), 400)
	b.SetBytes(int64(len(msg)))
	var dst []byte
	for b.Loop() {
		dst = appendDotStuffed(dst[:0], msg)
	}
}
