package feed

import (
	"path"
	"strings"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// image is an article's featured image.
type image struct {
	URL     string
	Caption string
}

// featuredImage picks the item's image from, in order: a Media RSS image,
// an image enclosure, the item image gofeed found (JSON Feed image, iTunes
// image), the first image of the content. URLs in feed fields resolve
// against feedBase, those in the content against contentBase. An image
// without a caption of its own takes the one it has in the content (its
// figure's figcaption, else its alt text).
func featuredImage(item *gofeed.Item, content, feedBase, contentBase string) image {
	inContent := contentImages(content, contentBase)
	candidates := []image{mediaImage(item.Extensions, feedBase), enclosureImage(item.Enclosures, feedBase)}
	if item.Image != nil {
		// gofeed may have taken it from the content, whose URLs are
		// relative to the article.
		candidates = append(candidates, image{URL: resolveURL(item.Image.URL, contentBase)})
	}
	if len(inContent) > 0 {
		candidates = append(candidates, inContent[0])
	}
	for _, c := range candidates {
		if c.URL == "" {
			continue
		}
		if c.Caption == "" {
			c.Caption = captionOf(c.URL, inContent)
		}
		return c
	}
	return image{}
}

func captionOf(url string, inContent []image) string {
	for _, img := range inContent {
		if img.URL == url {
			return img.Caption
		}
	}
	return ""
}

// mediaImage reads Media RSS: media:content (also inside media:group) of an
// image type, else media:thumbnail. The caption is the nearest
// media:description.
func mediaImage(exts ext.Extensions, base string) image {
	media := exts["media"]
	if media == nil {
		return image{}
	}
	itemCaption := extensionText(media["description"])
	scopes := []map[string][]ext.Extension{media}
	for _, group := range media["group"] {
		scopes = append(scopes, group.Children)
	}
	for _, scope := range scopes {
		scopeCaption := firstNonEmpty(extensionText(scope["description"]), itemCaption)
		for _, c := range scope["content"] {
			url := resolveURL(c.Attrs["url"], base)
			if url != "" && isImageMedia(c.Attrs["medium"], c.Attrs["type"], url) {
				return image{URL: url, Caption: firstNonEmpty(extensionText(c.Children["description"]), scopeCaption)}
			}
		}
	}
	for _, scope := range scopes {
		for _, t := range scope["thumbnail"] {
			if url := resolveURL(t.Attrs["url"], base); url != "" {
				return image{URL: url, Caption: itemCaption}
			}
		}
	}
	return image{}
}

func extensionText(exts []ext.Extension) string {
	for _, e := range exts {
		if t := inlineText(e.Value); t != "" {
			return t
		}
	}
	return ""
}

// isImageMedia reads Media RSS: medium="image" or an image MIME type, else,
// when neither attribute is given, an image file extension.
func isImageMedia(medium, mimeType, url string) bool {
	if strings.EqualFold(strings.TrimSpace(medium), "image") || isImageType(mimeType) {
		return true
	}
	if medium != "" || mimeType != "" {
		return false
	}
	switch strings.ToLower(path.Ext(strings.SplitN(url, "?", 2)[0])) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif":
		return true
	}
	return false
}

func isImageType(mimeType string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(mimeType)), "image/")
}

func enclosureImage(enclosures []*gofeed.Enclosure, base string) image {
	for _, e := range enclosures {
		if e == nil || !isImageType(e.Type) {
			continue
		}
		if url := resolveURL(e.URL, base); url != "" {
			return image{URL: url}
		}
	}
	return image{}
}

// contentImages lists the images of the content in document order, each
// with its figure's caption, else its alt text.
func contentImages(content, base string) []image {
	if !strings.Contains(content, "<") {
		return nil
	}
	var found []image
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Img {
			if url := imageSource(n, base); url != "" {
				found = append(found, image{URL: url, Caption: imageCaption(n)})
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(parseHTML(content))
	return found
}

// imageSource returns the img's URL; lazy-loading pages put a placeholder
// (often a data: URL) in src and the real one in data-src.
func imageSource(img *html.Node, base string) string {
	for _, name := range []string{"src", "data-src", "data-lazy-src"} {
		if url := resolveURL(attr(img, name), base); url != "" {
			return url
		}
	}
	return ""
}

func imageCaption(img *html.Node) string {
	for n := img.Parent; n != nil; n = n.Parent {
		if n.Type == html.ElementNode && n.DataAtom == atom.Figure {
			if caption := figcaption(n); caption != "" {
				return caption
			}
			break
		}
	}
	return strings.Join(strings.Fields(attr(img, "alt")), " ")
}

func figcaption(figure *html.Node) string {
	for c := figure.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Figcaption {
			return strings.Join(strings.Fields(nodeText(c)), " ")
		}
	}
	return ""
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
