package mastodon

import (
	"fmt"
	"strings"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// An editor may rewrite a post in review (syndicate.Post.Override): the
// plain text is the status, as written; the content warning and the
// featured image stay. It is counted as the instance counts and refused,
// not cut, when it is over the limit.

// renderPost is the status of the post: its override when it has one,
// else the article fitted by the template.
func (c *Channel) renderPost(post syndicate.Post, lim Limits, k counter) (status, error) {
	if post.Override == "" {
		return c.renderer.render(post.Article, lim, k)
	}
	return c.renderer.overridden(post.Article, post.Override, lim, k)
}

func (r *renderer) overridden(a syndicate.Article, text string, lim Limits, k counter) (status, error) {
	spoiler := contentWarning(a.Categories, r.warnings)
	text = strings.TrimSpace(text)
	out := status{Text: text, Spoiler: spoiler, Length: k.status(spoiler, text), Limit: lim.MaxCharacters}
	if img := strings.TrimSpace(a.ImageURL); !r.noImage && img != "" {
		out.Image, out.Caption = img, strings.Join(strings.Fields(a.ImageCaption), " ")
	}
	switch {
	case text == "":
		return out, errNothingToPost
	case out.Length > out.Limit:
		return out, fmt.Errorf("the text is %d characters as the instance counts them, over its limit of %d", out.Length, out.Limit)
	}
	return out, nil
}

// CheckText renders the post with the editor's text as Send would post
// it, refusing a text over the instance's limit.
func (c *Channel) CheckText(post syndicate.Post) (syndicate.Rendering, error) {
	lim, k := c.fitting(c.cachedLimits())
	st, err := c.renderPost(post, lim, k)
	return st.rendering(), err
}
