package email_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSMTP is a scripted SMTP server on loopback: it answers like a real
// one (EHLO extensions, STARTTLS, AUTH PLAIN, PIPELINING, dot-stuffed
// DATA, no DATA without an accepted recipient) and lets a test choose the
// answers that matter.
type fakeSMTP struct {
	t  *testing.T
	ln net.Listener

	implicitTLS *tls.Config // TLS from the first byte
	startTLS    *tls.Config // offers STARTTLS
	authUser    string      // offers AUTH PLAIN; checks this user and authPass
	authPass    string
	// noPipelining leaves PIPELINING out of the EHLO answer.
	noPipelining bool
	// lenientData answers 354 to DATA even when no recipient was
	// accepted (and refuses the message at its end), as some servers do.
	lenientData bool

	// Replies; "" means the usual success. "DROP" closes the connection
	// without answering.
	mailReply func() string
	rcptReply func(addr string) string
	endReply  func(rcpt string) string

	mu       sync.Mutex
	conns    int
	commands []string // every command, in order (AUTH shown without its data)
	messages []fakeMessage
	authed   int
	// pipelined counts the MAIL commands that came with more commands
	// behind them in the same read.
	pipelined int
}

type fakeMessage struct {
	from, rcpt, data string
}

func newFakeSMTP(t *testing.T) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{t: t, ln: ln}
	t.Cleanup(func() { ln.Close() })
	return f
}

func (f *fakeSMTP) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *fakeSMTP) serve() {
	go func() {
		for {
			c, err := f.ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
			if f.implicitTLS != nil {
				c = tls.Server(c, f.implicitTLS)
			}
			go f.session(c)
		}
	}()
}

func (f *fakeSMTP) record(cmd string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commands = append(f.commands, cmd)
}

func (f *fakeSMTP) snapshot() (conns int, commands []string, messages []fakeMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns, append([]string(nil), f.commands...), append([]fakeMessage(nil), f.messages...)
}

func (f *fakeSMTP) count(verb string) int {
	_, cmds, _ := f.snapshot()
	n := 0
	for _, c := range cmds {
		if strings.HasPrefix(c, verb) {
			n++
		}
	}
	return n
}

func (f *fakeSMTP) session(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	reply := func(s string) bool {
		if s == "DROP" {
			return false
		}
		w.WriteString(s + "\r\n")
		return w.Flush() == nil
	}
	if !reply("220 fake.test ESMTP ready") {
		return
	}
	var from, rcpt string
	var mailOK, rcptOK bool // in the transaction under way
	encrypted := f.implicitTLS != nil
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		if verb == "AUTH" {
			f.record("AUTH " + strings.Fields(line)[1])
		} else {
			f.record(line)
		}
		switch verb {
		case "EHLO", "HELO":
			ext := []string{"250-fake.test", "250-8BITMIME"}
			if !f.noPipelining {
				ext = append(ext, "250-PIPELINING")
			}
			if f.startTLS != nil && !encrypted {
				ext = append(ext, "250-STARTTLS")
			}
			if f.authUser != "" {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext = append(ext, "250 SMTPUTF8")
			if !reply(strings.Join(ext, "\r\n")) {
				return
			}
		case "STARTTLS":
			if f.startTLS == nil || !reply("220 go ahead") {
				return
			}
			tc := tls.Server(c, f.startTLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, encrypted = tc, true
			r, w = bufio.NewReader(c), bufio.NewWriter(c)
		case "AUTH":
			fields := strings.Fields(line)
			want := base64.StdEncoding.EncodeToString([]byte("\x00" + f.authUser + "\x00" + f.authPass))
			if len(fields) == 3 && fields[1] == "PLAIN" && fields[2] == want {
				f.mu.Lock()
				f.authed++
				f.mu.Unlock()
				reply("235 2.7.0 authenticated")
			} else {
				reply("535 5.7.8 bad credentials")
			}
		case "MAIL":
			if r.Buffered() > 0 {
				f.mu.Lock()
				f.pipelined++
				f.mu.Unlock()
			}
			from = line
			ans := "250 2.1.0 ok"
			if f.mailReply != nil {
				if a := f.mailReply(); a != "" {
					ans = a
				}
			}
			mailOK, rcptOK = strings.HasPrefix(ans, "250"), false
			if !reply(ans) {
				return
			}
		case "RCPT":
			if !mailOK {
				reply("503 5.5.1 need MAIL command")
				continue
			}
			rcpt = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(line, "RCPT TO:"), "<"), ">")
			rcpt, _, _ = strings.Cut(rcpt, ">")
			ans := "250 2.1.5 ok"
			if f.rcptReply != nil {
				if a := f.rcptReply(rcpt); a != "" {
					ans = a
				}
			}
			rcptOK = rcptOK || strings.HasPrefix(ans, "25")
			if !reply(ans) {
				return
			}
		case "DATA":
			if !rcptOK && !f.lenientData {
				reply("554 5.5.1 no valid recipients")
				continue
			}
			if !reply("354 end with <CRLF>.<CRLF>") {
				return
			}
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			ans := "250 2.0.0 queued"
			if !rcptOK {
				ans = "554 5.5.1 no valid recipients"
			} else if f.endReply != nil {
				if a := f.endReply(rcpt); a != "" {
					ans = a
				}
			}
			if strings.HasPrefix(ans, "250") {
				f.mu.Lock()
				f.messages = append(f.messages, fakeMessage{from: from, rcpt: rcpt, data: data.String()})
				f.mu.Unlock()
			}
			mailOK, rcptOK = false, false
			if !reply(ans) {
				return
			}
		case "RSET":
			mailOK, rcptOK = false, false
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 unknown command")
		}
	}
}

// selfSigned returns a TLS config for the server and the pool that trusts
// it, for 127.0.0.1.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fake.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// serverTLSClient trusts the self-signed certificate of the fake server.
func serverTLSClient(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}
