package mastodon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mattn/go-mastodon"
)

// call paces one API call of the kind (callRequest, callUpload,
// callStatus), then runs fn with a context bounded by the timeout, and
// gives the pacing what the answer said of the budget. The wait for the
// budget is bounded by ctx and by maxPaceWait, not by the timeout.
func (c *Channel) call(ctx context.Context, kind int, fn func(ctx context.Context) error) error {
	t, err := c.pace(ctx, kind)
	if err != nil {
		return err
	}
	var obs observation
	ctx, cancel := context.WithTimeout(withObservation(ctx, &obs), c.cfg.Timeout)
	defer cancel()
	err = fn(ctx)
	c.settle(t, &obs)
	return err
}

// maxAnswer bounds the JSON answers read by do.
const maxAnswer = 4 << 20

// do makes a request that go-mastodon cannot make, through the same
// client and transport: GET /api/v2/instance, which it does not know; GET
// /api/v1/media/:id, whose 206 it takes for an error; PUT
// /api/v1/statuses/:id, where it cannot clear spoiler_text. A form, when
// given, is the body. A 200, 202 or 206 answer is decoded into out (when
// not nil) and its status returned; any other is a *mastodon.APIError,
// as go-mastodon returns, or the transport's *responseError.
func (c *Channel) do(ctx context.Context, method, path string, form url.Values, out any) (int, error) {
	u, err := url.JoinPath(c.cfg.Server, path)
	if err != nil {
		return 0, err
	}
	return c.request(ctx, method, u, form, out, true)
}

// request is do for a whole URL, with the account's token or without it.
func (c *Channel) request(ctx context.Context, method, u string, form url.Values, out any, withToken bool) (int, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, err
	}
	if withToken {
		req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken.Value())
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
		resp.Body.Close()
	}()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusAccepted, http.StatusPartialContent:
	default:
		return resp.StatusCode, &mastodon.APIError{StatusCode: resp.StatusCode, Message: errorMessage(resp)}
	}
	if out != nil {
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer)).Decode(out); err != nil {
			return resp.StatusCode, &decodeError{fmt.Errorf("decoding the answer of %s %s: %w", method, req.URL.Path, err)}
		}
	}
	return resp.StatusCode, nil
}

// decodeError is an answer that is not the JSON expected: most likely not
// a Mastodon server at all.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }
