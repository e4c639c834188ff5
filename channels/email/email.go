package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// maxPerConnection is how many messages one connection carries before it
// is closed and another opened: some servers refuse more (Exim's default
// is 1000), and a fresh connection costs little.
const maxPerConnection = 500

// Channel mails the digests of one list. It is safe for concurrent use.
type Channel struct {
	cfg        Config
	client     *gomail.Client // dials, upgrades to TLS and authenticates connections
	r          *renderer
	limiter    *rate.Limiter // nil: no cap
	lang       string
	senderName string
	fromHeader string
	envelope   string // MAIL FROM address
	domain     string // of the sender: Message-IDs, the mailto
	mailto     string
	listID     string
}

var _ syndicate.Mailer = (*Channel)(nil)

// New returns the channel. It makes no connection.
func New(cfg Config) (*Channel, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r, err := newRenderer(cfg.Subject)
	if err != nil {
		return nil, fmt.Errorf("email channel %q: %w", cfg.ID, err)
	}
	from, _ := mail.ParseAddress(cfg.From) // checked by withDefaults
	_, domain, _ := strings.Cut(from.Address, "@")
	domain = strings.ToLower(domain)
	c := &Channel{
		cfg:        cfg,
		r:          r,
		senderName: from.Name,
		fromHeader: addressHeader(from.Name, from.Address),
		envelope:   from.Address,
		domain:     domain,
		mailto:     cfg.UnsubscribeMailto,
	}
	c.lang, _ = wordsFor(cfg.Language)
	if c.senderName == "" {
		c.senderName = from.Address
	}
	if c.mailto == "" {
		c.mailto = "unsubscribe@" + domain
	}
	c.listID = listID(cfg.List, from.Name, cfg.PublicURL, domain)
	if cfg.Rate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), max(1, min(cfg.Connections, int(cfg.Rate))))
	}
	if c.client, err = gomail.NewClient(cfg.Host, clientOptions(cfg)...); err != nil {
		return nil, fmt.Errorf("email channel %q: %w", cfg.ID, err)
	}
	// Render once with no articles, so a subject template that names a
	// missing field fails now rather than at the first digest.
	if _, err := c.render(syndicate.Digest{CreatedAt: cfg.Now()}, nil); err != nil {
		return nil, fmt.Errorf("email channel %q: %w", cfg.ID, err)
	}
	return c, nil
}

// clientOptions set the port and TLS policy explicitly (go-mail's
// defaults are port 25 with STARTTLS mandatory), no NOOP before each
// message, and AUTH only with a user name.
func clientOptions(cfg Config) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithoutNoop(),
	}
	tlsConfig := cfg.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tlsConfig = tlsConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = cfg.Host
	}
	opts = append(opts, gomail.WithTLSConfig(tlsConfig))
	switch cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	if cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover // the strongest the server offers
		if cfg.TLS == TLSNone {
			// go-mail will not pick PLAIN on a plain connection by itself;
			// tls: none was chosen (for a relay on this machine).
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return opts
}

// listID is the List-Id header: the sender's name and <list.host>.
func listID(list, name, publicURL, domain string) string {
	host := domain
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		host = strings.ToLower(u.Hostname())
	}
	id := "<" + list + "." + host + ">"
	if name == "" {
		return id
	}
	return phrase(name) + " " + id
}

// phrase quotes or encodes a display name for a header.
func phrase(s string) string {
	s = oneLine(s)
	for _, r := range s {
		if r >= 0x80 {
			return mime.QEncoding.Encode("UTF-8", s)
		}
	}
	return strconv.Quote(s)
}

// Prepare renders and encodes the digest once.
func (c *Channel) Prepare(ctx context.Context, d syndicate.Digest, articles []syndicate.Article) (syndicate.Mailing, error) {
	if c.cfg.UnsubscribeURL == nil {
		return nil, fmt.Errorf("email channel %q: no unsubscribe links", c.cfg.ID)
	}
	r, err := c.render(d, articles)
	if err != nil {
		return nil, err
	}
	f, err := c.newFrame(d, r)
	if err != nil {
		return nil, err
	}
	c.cfg.Log.Info("digest rendered", "channel", c.cfg.ID, "digest", d.ID, "subject", r.Subject,
		"articles", len(articles), "bytes", f.size)
	return &mailing{c: c, f: f}, nil
}

// Preview renders the digest as a subscriber of the list would get it,
// with the link of an example subscriber.
func (c *Channel) Preview(d syndicate.Digest, articles []syndicate.Article) (Rendered, error) {
	r, err := c.render(d, articles)
	if err != nil {
		return Rendered{}, err
	}
	link := "https://unsubscribe.example/"
	if c.cfg.UnsubscribeURL != nil {
		link = c.cfg.UnsubscribeURL(syndicate.Subscriber{List: c.cfg.List, Email: "subscriber@example.org", State: syndicate.SubscriberConfirmed})
	}
	r.Text = strings.ReplaceAll(r.Text, unsubscribeMarker, link)
	r.HTML = strings.ReplaceAll(r.HTML, unsubscribeMarker, htmlEscape(link))
	return r, nil
}

// mailing is a digest on its way: a worker per connection, started at the
// first batch, each carrying many messages.
type mailing struct {
	c     *Channel
	f     *frame
	jobs  chan job
	start sync.Once
	wg    sync.WaitGroup
}

type job struct {
	sub   syndicate.Subscriber
	res   *syndicate.MailResult
	batch *batch
}

// batch is one call of Send.
type batch struct {
	ctx   context.Context
	log   syndicate.MessageLog // told as each message begins and ends
	done  sync.WaitGroup
	fatal atomic.Pointer[error] // the server cannot take this batch
}

func (b *batch) stop(err error) { b.fatal.CompareAndSwap(nil, &err) }

func (b *batch) stopped() error {
	if p := b.fatal.Load(); p != nil {
		return *p
	}
	return nil
}

// Send mails each subscriber once; see syndicate.Mailing.
func (m *mailing) Send(ctx context.Context, subs []syndicate.Subscriber, log syndicate.MessageLog) ([]syndicate.MailResult, error) {
	m.start.Do(func() {
		m.jobs = make(chan job)
		for range m.c.cfg.Connections {
			w := &worker{m: m}
			m.wg.Go(w.run)
		}
	})
	results := make([]syndicate.MailResult, len(subs))
	b := &batch{ctx: ctx, log: log}
	b.done.Add(len(subs))
	for i, s := range subs {
		m.jobs <- job{sub: s, res: &results[i], batch: b}
	}
	b.done.Wait()
	return results, b.stopped()
}

// Close ends the connections politely (QUIT).
func (m *mailing) Close() error {
	m.start.Do(func() {}) // no worker will start now
	if m.jobs != nil {
		close(m.jobs)
		m.wg.Wait()
	}
	return nil
}

// worker owns one SMTP connection.
type worker struct {
	m    *mailing
	conn *smtp.Client
	sent int // messages on this connection
	buf  bytes.Buffer
	wire []byte // buf as sent: dot-stuffed and ended
	// What the server of conn offers: PIPELINING, and so the MAIL FROM
	// command with its parameters.
	pipelining bool
	mailCmd    string
	signer     *gomail.DKIMSigner
}

func (w *worker) run() {
	c := w.m.c
	if d := c.cfg.DKIM; d != nil {
		// One signer per connection: go-mail's signer is not safe for
		// concurrent use.
		w.signer = gomail.NewDKIMSigner(d.Domain, d.Selector, d.Key)
		w.signer.SignHeaders("From", "To", "Subject", "Date", "Message-ID", "List-Id",
			"List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version", "Content-Type", "Content-Language")
		w.signer.NowFunc = c.cfg.Now
	}
	for j := range w.m.jobs {
		*j.res = w.deliver(j.batch, j.sub)
		if j.batch.log != nil {
			j.batch.log.Ended(j.sub, *j.res) // before this connection begins another
		}
		j.batch.done.Done()
	}
	if w.conn != nil {
		if err := w.conn.Quit(); err != nil {
			w.conn.Close()
		}
	}
}

// deliver sends one message, or says why not.
func (w *worker) deliver(b *batch, s syndicate.Subscriber) syndicate.MailResult {
	c := w.m.c
	if err := b.stopped(); err != nil {
		return deferred(err)
	}
	if strings.ContainsAny(s.Email, "\r\n<>") || !strings.Contains(s.Email, "@") {
		return syndicate.MailResult{State: syndicate.RecipientFailed, Err: fmt.Errorf("invalid address %q", s.Email)}
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(b.ctx); err != nil {
			return deferred(err)
		}
	}
	// From here the message may reach the server: the pipeline records
	// it "sending" first, so a crash leaves only this one uncertain.
	if b.log != nil {
		if err := b.log.Begin(s); err != nil {
			return deferred(fmt.Errorf("not sent: recording its start failed: %w", err))
		}
	}
	res, retry := w.attempt(b, s)
	if retry {
		// The connection was lost or closed before the server took
		// anything of this message: once more, on a new one.
		res, _ = w.attempt(b, s)
	}
	return res
}

// attempt makes one try; retry says the message never reached the server
// because the connection had gone, so another may be made at once.
func (w *worker) attempt(b *batch, s syndicate.Subscriber) (res syndicate.MailResult, retry bool) {
	c := w.m.c
	if w.conn == nil {
		conn, err := c.client.DialToSMTPClientWithContext(b.ctx)
		if err != nil {
			err = fmt.Errorf("connect to %s: %w", c.client.ServerAddr(), channels.RedactError(err, c.cfg.Password))
			b.stop(err)
			return deferred(err), false
		}
		w.conn, w.sent = conn, 0
		w.pipelining, _ = conn.Extension("PIPELINING")
		// MAIL FROM as go-mail's Client.Mail makes it.
		w.mailCmd = "MAIL FROM:<" + c.envelope + ">"
		if ok, _ := conn.Extension("8BITMIME"); ok {
			w.mailCmd += " BODY=8BITMIME"
		}
		if ok, _ := conn.Extension("SMTPUTF8"); ok {
			w.mailCmd += " SMTPUTF8"
		}
	}
	conn := w.conn
	if err := conn.UpdateDeadline(c.cfg.Timeout); err != nil {
		w.drop()
		return deferred(err), w.sent > 0
	}
	fresh := w.sent == 0

	mailErr, rcptErr, dataErr := w.begin(s)
	if err := mailErr; err != nil {
		code := replyCode(err)
		switch {
		case (code == 0 || code == 421) && !fresh:
			// A connection the server closed meanwhile.
			w.drop()
			return deferred(fmt.Errorf("MAIL FROM: %w", err)), true
		case code == 0 || code == 421:
			w.drop()
			err = fmt.Errorf("MAIL FROM on a new connection: %w", err)
			b.stop(err)
			return deferred(err), false
		default:
			// The sender refused: every message would be.
			w.reset()
			err = fmt.Errorf("the server refused the sender %s: %w", c.envelope, err)
			b.stop(err)
			return deferred(err), false
		}
	}
	if rcptErr != nil {
		return w.refused("RCPT TO", rcptErr, false), false
	}
	if dataErr != nil {
		return w.refused("DATA", dataErr, false), false
	}
	if err := w.data(s); err != nil {
		var we writeError
		if errors.As(err, &we) {
			// The end of the data was not sent: the server cannot have
			// taken the message.
			w.drop()
			return deferred(fmt.Errorf("writing the message: %w", we.err)), false
		}
		return w.refused("end of data", err, true), false
	}
	w.sent++
	if w.sent >= maxPerConnection {
		if err := w.conn.Quit(); err != nil {
			w.conn.Close()
		}
		w.conn = nil
	}
	return syndicate.MailResult{State: syndicate.RecipientSent}, false
}

// begin opens the transaction for s: MAIL FROM, RCPT TO and DATA. It
// returns the server's refusal of each (nil: accepted); when all three are
// nil the server awaits the message.
//
// A server that offers PIPELINING (RFC 2920; Postfix, Exim and most others
// do) gets the three commands in one write and answers them together: one
// round trip instead of three, which were most of a message's time on a
// fast server. Otherwise each command awaits the answer to the one
// before, as go-mail sends them.
func (w *worker) begin(s syndicate.Subscriber) (mailErr, rcptErr, dataErr error) {
	if !w.pipelining {
		if mailErr = w.conn.Mail("<" + w.m.c.envelope + ">"); mailErr != nil {
			return mailErr, nil, nil
		}
		if rcptErr = w.conn.Rcpt("<" + s.Email + ">"); rcptErr != nil {
			return nil, rcptErr, nil
		}
		text := w.conn.Text
		id, err := text.Cmd("DATA")
		if err != nil {
			return nil, nil, err
		}
		text.StartResponse(id)
		_, _, dataErr = text.ReadResponse(354)
		text.EndResponse(id)
		return nil, nil, dataErr
	}
	text := w.conn.Text
	text.W.WriteString(w.mailCmd)
	text.W.WriteString("\r\nRCPT TO:<")
	text.W.WriteString(s.Email)
	text.W.WriteString(">\r\nDATA\r\n")
	if err := text.W.Flush(); err != nil {
		return err, nil, nil // no reply code: the connection is gone
	}
	// Every command of the group is answered, in order; an answer without
	// a code means the connection is gone, and nothing more will come.
	if _, _, mailErr = text.ReadResponse(250); mailErr != nil && replyCode(mailErr) == 0 {
		return mailErr, nil, nil
	}
	if _, _, rcptErr = text.ReadResponse(25); rcptErr != nil && replyCode(rcptErr) == 0 {
		return mailErr, rcptErr, nil
	}
	_, _, dataErr = text.ReadResponse(354)
	if dataErr == nil && (mailErr != nil || rcptErr != nil) {
		// The server took DATA after refusing the sender or the
		// recipient: it gets the empty message RFC 2920 asks for, which
		// it cannot deliver to anyone.
		dataErr = errors.New("the server accepted DATA after a refusal")
		text.W.WriteString(".\r\n")
		if err := text.W.Flush(); err != nil {
			dataErr = err
		} else if _, _, err := text.ReadResponse(250); err != nil && replyCode(err) == 0 {
			dataErr = err
		}
	}
	return mailErr, rcptErr, dataErr
}

// data sends the message for s, once the server said go ahead to DATA:
// dot-stuffed and ended, in one write; then it awaits the server's answer.
// A failure to write the message comes back as a writeError; any other
// error is the answer, or its absence, after the whole message was sent.
//
// go-mail's Data writer hands the message to net/textproto's dot writer,
// which copies it a byte at a time into a 4 KB buffer and so a write per
// 4 KB; on a fast server that was most of the client's time. The message
// is built in the worker's buffer anyway, so it is stuffed there and
// written whole on the client's own connection (smtp.Client.Text, which
// go-mail exports for such extensions).
func (w *worker) data(s syndicate.Subscriber) error {
	text := w.conn.Text
	w.writeMessage(s)
	w.wire = appendDotStuffed(w.wire[:0], w.buf.Bytes())
	// Nothing is buffered here (the commands were flushed), so bufio
	// writes w.wire straight through: one write for the message.
	if _, err := text.W.Write(w.wire); err != nil {
		return writeError{err}
	}
	if err := text.W.Flush(); err != nil {
		return writeError{err}
	}
	_, _, err := text.ReadResponse(250)
	return err
}

type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// appendDotStuffed appends msg to dst as the data of an SMTP DATA
// command (RFC 5321 4.5.2): every line ending CRLF (a bare LF becomes
// CRLF), a dot doubled at the start of a line, and the final ".". The
// runs between changes are copied whole.
func appendDotStuffed(dst, msg []byte) []byte {
	if len(msg) > 0 && msg[0] == '.' {
		dst = append(dst, '.')
	}
	done := 0 // msg[:done] is in dst
	for i := 0; ; {
		j := bytes.IndexByte(msg[i:], '\n')
		if j < 0 {
			break
		}
		j += i
		if j == 0 || msg[j-1] != '\r' {
			dst = append(append(dst, msg[done:j]...), '\r', '\n')
			done = j + 1
		}
		if j+1 < len(msg) && msg[j+1] == '.' {
			dst = append(append(dst, msg[done:j+1]...), '.')
			done = j + 1
		}
		i = j + 1
	}
	dst = append(dst, msg[done:]...)
	if len(msg) > 0 && msg[len(msg)-1] != '\n' {
		dst = append(dst, '\r', '\n')
	}
	return append(dst, ".\r\n"...)
}

// refused classifies the server's answer to a command: 4xx deferred, 5xx
// failed; no answer at all deferred, or uncertain when it was awaited for
// the message itself (afterData).
func (w *worker) refused(stage string, err error, afterData bool) syndicate.MailResult {
	err = fmt.Errorf("%s: %w", stage, err)
	switch code := replyCode(err); {
	case code >= 500:
		w.reset()
		return syndicate.MailResult{State: syndicate.RecipientFailed, Err: err}
	case code == 421:
		w.drop()
		return deferred(err)
	case code >= 400:
		w.reset()
		return deferred(err)
	case code > 0:
		w.reset()
		return deferred(err)
	}
	w.drop()
	if afterData {
		return syndicate.MailResult{State: syndicate.RecipientUncertain,
			Err: fmt.Errorf("no answer after the message was sent: %w", err)}
	}
	return deferred(err)
}

// reset ends a refused transaction; a connection that cannot is dropped.
func (w *worker) reset() {
	if w.conn != nil && w.conn.Reset() != nil {
		w.drop()
	}
}

func (w *worker) drop() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// writeMessage builds the message for s in w.buf, signed when DKIM is on.
func (w *worker) writeMessage(s syndicate.Subscriber) {
	c := w.m.c
	f := w.m.f
	f.writeMessage(&w.buf, addressHeader(s.Name, s.Email), c.messageID(f.digestID, s),
		c.cfg.Now().Format(time.RFC1123Z), c.cfg.UnsubscribeURL(s), c.mailto)
	if w.signer == nil {
		return
	}
	msg := w.buf.Bytes()
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	sig, err := w.signer.Sign(msg[:end+2], msg[end+4:])
	if err != nil {
		c.cfg.Log.Error("DKIM signing failed: the message goes out unsigned", "channel", c.cfg.ID, "error", err)
		return
	}
	sig = refoldDKIM(sig)
	signed := make([]byte, 0, len(sig)+len(msg))
	signed = append(append(signed, sig...), msg...)
	w.buf.Reset()
	w.buf.Write(signed)
}

// refoldDKIM folds go-mail's DKIM-Signature field between tags only.
// go-mail v0.8.1 also folds inside a long tag value (the h= list of more
// headers than its default), and relaxed canonicalization turns that fold
// into a space the signature did not cover: verifiers then reject it.
// Unfolded, the field is what was signed; a fold after "; " canonicalizes
// back to the "; " that was.
func refoldDKIM(field string) string {
	field = strings.TrimSuffix(strings.ReplaceAll(field, "\r\n ", ""), "\r\n")
	return strings.ReplaceAll(field, "; ", ";\r\n\t") + "\r\n"
}

// messageID is the same for a subscriber's copy of a digest whenever it
// is built, so a copy sent again after an editor's decision is recognised
// by the clients that de-duplicate.
func (c *Channel) messageID(digestID int64, s syndicate.Subscriber) string {
	sum := sha256.Sum256([]byte(c.cfg.ID + "\x00" + strconv.FormatInt(digestID, 10) + "\x00" + strconv.FormatInt(s.ID, 10) + "\x00" + s.Email))
	return "<digest." + strconv.FormatInt(digestID, 10) + "." + hex.EncodeToString(sum[:12]) + "@" + c.domain + ">"
}

func deferred(err error) syndicate.MailResult {
	return syndicate.MailResult{State: syndicate.RecipientDeferred, Err: err}
}

// replyCode is the SMTP reply code in err, or 0 when the server gave none.
func replyCode(err error) int {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code
	}
	return 0
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// Check connects to the server, upgrades to TLS and authenticates as the
// daemon would, then quits: check --online.
func (c *Channel) Check(ctx context.Context) (string, error) {
	conn, err := c.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return "", fmt.Errorf("SMTP %s: %w", c.client.ServerAddr(), channels.RedactError(err, c.cfg.Password))
	}
	defer conn.Close()
	if err := conn.Quit(); err != nil {
		return "", fmt.Errorf("SMTP %s: QUIT: %w", c.client.ServerAddr(), err)
	}
	msg := fmt.Sprintf("SMTP %s, tls %s", c.client.ServerAddr(), c.cfg.TLS)
	if c.cfg.Username != "" {
		msg += ", authenticated as " + c.cfg.Username
	}
	return msg, nil
}

// SendConfirmation mails the short, bilingual message with the link that
// confirms a subscription (subscribe.ConfirmationSender).
func (c *Channel) SendConfirmation(ctx context.Context, s syndicate.Subscriber, confirmURL string) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(c.cfg.From); err != nil {
		return channels.Permanent(fmt.Errorf("from: %w", err))
	}
	if err := msg.AddToFormat(oneLine(s.Name), s.Email); err != nil {
		return channels.Permanent(fmt.Errorf("to %q: %w", s.Email, err))
	}
	subject, body := confirmation(c.lang, c.senderName, s.List, confirmURL)
	msg.Subject(subject)
	msg.SetDateWithValue(c.cfg.Now())
	sum := sha256.Sum256([]byte(s.List + "\x00" + s.Email))
	msg.SetMessageIDWithValue("confirm." + strconv.FormatInt(c.cfg.Now().UnixMicro(), 36) + "." +
		hex.EncodeToString(sum[:6]) + "@" + c.domain)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, body)
	if c.cfg.DKIM != nil {
		signer := gomail.NewDKIMSigner(c.cfg.DKIM.Domain, c.cfg.DKIM.Selector, c.cfg.DKIM.Key)
		msg.SetDKIM(signer)
	}
	err := c.client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	err = channels.RedactError(err, c.cfg.Password)
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 {
		return channels.Permanent(fmt.Errorf("confirmation to %s: %w", s.Email, err))
	}
	return &syndicate.SendError{Kind: syndicate.Retryable, Err: fmt.Errorf("confirmation to %s: %w", s.Email, err)}
}

// confirmation is the subject and text of the confirmation message: the
// list's language first, then the other.
func confirmation(lang, sender, list, link string) (subject, body string) {
	en := fmt.Sprintf("Please confirm your subscription to the “%s” list of %s by opening this link:\n\n%s\n\n"+
		"The link works for 48 hours. If you did not ask for this, ignore this message: you will get nothing more.", list, sender, link)
	es := fmt.Sprintf("Confirma tu suscripción a la lista «%s» de %s abriendo este enlace:\n\n%s\n\n"+
		"El enlace sirve durante 48 horas. Si no lo pediste, ignora este mensaje: no recibirás nada más.", list, sender, link)
	if lang == "es" {
		return "Confirma tu suscripción · Confirm your subscription", es + "\n\n— English —\n\n" + en + "\n"
	}
	return "Confirm your subscription · Confirma tu suscripción", en + "\n\n— Español —\n\n" + es + "\n"
}
