package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// maxAnswer bounds what is read of an answer; Bot API answers are small.
const maxAnswer = 1 << 20

// callClient is the library's HTTPClient for one call. The library takes no
// context and drops the status of an answer whose body is not JSON, so this
// gives the request the call's context, notes whether it was written, and
// keeps the status.
type callClient struct {
	ctx    context.Context
	token  string
	client *http.Client
	// opaque is set when the transport is not an *http.Transport, which may
	// not report to httptrace at all.
	opaque     bool
	written    channels.WriteTracker
	traced     atomic.Bool // the transport reported to httptrace
	status     int
	retryAfter string
}

// mayHaveWritten reports whether the request may have reached Telegram.
// A transport that never reported to httptrace may have written it.
func (c *callClient) mayHaveWritten() bool {
	return c.written.Written() || (c.opaque && !c.traced.Load())
}

func (c *callClient) Do(req *http.Request) (*http.Response, error) {
	ctx := httptrace.WithClientTrace(c.written.Track(c.ctx), &httptrace.ClientTrace{
		GetConn: func(string) { c.traced.Store(true) },
	})
	resp, err := c.client.Do(req.WithContext(ctx))
	if err != nil {
		// Take the token out of the URL but keep the error's chain, so
		// timeouts and cancellations can still be told apart.
		var ue *url.Error
		if errors.As(err, &ue) {
			clean := *ue
			clean.URL = channels.Redact(ue.URL, c.token)
			err = &clean
		}
		return nil, err
	}
	c.status = resp.StatusCode
	c.retryAfter = resp.Header.Get("Retry-After")
	resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxAnswer), Closer: resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

func newHTTPClient(cfg Config) *http.Client {
	return &http.Client{
		Transport: cfg.Transport,
		Timeout:   cfg.Timeout,
		// A POST that is redirected becomes a GET, or is sent twice:
		// take a redirect as an error instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// call makes one Bot API request and returns its result; with a file, a
// multipart upload. The BotAPI value is copied so each call has its own
// client and nothing is shared.
func (c *Channel) call(ctx context.Context, method string, params tgbotapi.Params, file *tgbotapi.RequestFile) (json.RawMessage, *callClient, error) {
	cc := &callClient{ctx: ctx, token: c.token, client: c.http, opaque: c.opaqueTransport}
	bot := *c.bot
	bot.Client = cc
	var resp *tgbotapi.APIResponse
	var err error
	if file != nil {
		resp, err = bot.UploadFiles(method, params, []tgbotapi.RequestFile{*file})
	} else {
		resp, err = bot.MakeRequest(method, params)
	}
	if err != nil {
		return nil, cc, err
	}
	return resp.Result, cc, nil
}

// request makes a call to the chat in params["chat_id"]. When Telegram
// answers a send that the group became a supergroup (migrate_to_chat_id),
// it moves the channel to the new chat for the rest of the process and
// tries once more there: the first request was refused, so nothing is posted
// twice. Edits are idempotent, sends are not: a send whose answer was lost
// is uncertain. The error is a *syndicate.SendError, and apiErr Telegram's
// answer when there was one.
func (c *Channel) request(ctx context.Context, what, method string, params tgbotapi.Params, file *tgbotapi.RequestFile, idempotent bool) (result json.RawMessage, apiErr *tgbotapi.Error, se *syndicate.SendError) {
	for attempt := 0; ; attempt++ {
		result, cc, err := c.call(ctx, method, params, file)
		if err == nil {
			return result, nil, nil
		}
		apiErr = nil
		errors.As(err, &apiErr)
		// Only sends follow: a message edited is in the old chat.
		if attempt == 0 && apiErr != nil && apiErr.MigrateToChatID != 0 && strings.HasPrefix(method, "send") &&
			c.migrate(params["chat_id"], apiErr.MigrateToChatID) {
			params["chat_id"] = strconv.FormatInt(apiErr.MigrateToChatID, 10)
			continue
		}
		return nil, apiErr, c.classify(err, cc, what, idempotent)
	}
}

// get makes a read-only call and decodes its result into out.
func (c *Channel) get(ctx context.Context, method string, params tgbotapi.Params, out any) error {
	result, cc, err := c.call(ctx, method, params, nil)
	if err != nil {
		return c.classify(err, cc, method, true)
	}
	if err := json.Unmarshal(result, out); err != nil {
		return fmt.Errorf("telegram: %s: reading the answer: %w", method, err)
	}
	return nil
}

// classify turns a failed call into a *syndicate.SendError whose text never
// holds the token. what says what was being done ("sendMessage to @chan");
// idempotent says whether the call may be repeated safely (an edit or a
// read) when its answer was lost.
func (c *Channel) classify(err error, cc *callClient, what string, idempotent bool) *syndicate.SendError {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		code := apiErr.Code
		if code == 0 {
			code = cc.status // the library's upload path leaves Code unset
		}
		var retryAt time.Time
		if apiErr.RetryAfter > 0 {
			retryAt = c.now().Add(time.Duration(apiErr.RetryAfter) * time.Second)
			c.pacer.block(retryAt)
		}
		msg := fmt.Sprintf("telegram: %d %s", code, apiErr.Message)
		if hint := c.hint(code, apiErr); hint != "" {
			msg += " (" + hint + ")"
		}
		return channels.StatusError(code, retryAt, c.redact(errors.New(msg)))
	}
	if cc.status != 0 {
		// An answer came that is not the Bot API's: a proxy's error
		// page, or a body cut short.
		hint := ""
		if cc.status == http.StatusNotFound || (cc.status >= 300 && cc.status < 400) {
			hint = " (check api_url)"
		}
		e := c.redact(fmt.Errorf("telegram: %s: HTTP %d with an unreadable answer%s: %w", what, cc.status, hint, err))
		if cc.status >= 300 {
			return channels.StatusError(cc.status, channels.ParseRetryAfter(cc.retryAfter, c.now()), e)
		}
		// 2xx: Telegram may well have taken it.
		if idempotent {
			return &syndicate.SendError{Kind: syndicate.Retryable, Err: e}
		}
		return &syndicate.SendError{Kind: syndicate.Uncertain, Err: e}
	}
	se := channels.TransportError(c.redact(err), cc.mayHaveWritten(), idempotent)
	se.Err = fmt.Errorf("telegram: %s: %w", what, se.Err)
	return se
}

// hint says what the operator must do about a refusal.
func (c *Channel) hint(code int, e *tgbotapi.Error) string {
	desc := strings.ToLower(e.Message)
	chat := c.currentChat()
	admin := "add the bot to " + chat + " as an administrator with the right to post messages"
	switch {
	case e.MigrateToChatID != 0:
		return fmt.Sprintf("the group is now the supergroup %d: set chat to %d", e.MigrateToChatID, e.MigrateToChatID)
	case code == http.StatusUnauthorized:
		return "check bot_token"
	case code == http.StatusNotFound:
		return "check api_url and bot_token"
	case strings.Contains(desc, "chat not found"):
		return "check chat: a public channel is @name, a private one its numeric id (-100…); " + admin
	case strings.Contains(desc, "kicked"), strings.Contains(desc, "not a member"):
		return admin + " again"
	case strings.Contains(desc, "blocked by the user"):
		return "the user must start the bot again"
	case strings.Contains(desc, "rights"):
		return "give the bot the right to post in " + chat + ", or " + admin
	case strings.Contains(desc, "thread not found"), strings.Contains(desc, "topic"):
		return "check message_thread_id"
	case strings.Contains(desc, "can't parse entities"):
		return "check the channel's template"
	case strings.Contains(desc, "message to edit not found"):
		return "the message was deleted"
	case code == http.StatusForbidden:
		return admin
	}
	return ""
}

func (c *Channel) redact(err error) error { return channels.RedactError(err, c.token) }
