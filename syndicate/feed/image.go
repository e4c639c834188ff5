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

// featuredImage picks the item's image from, in order: Media RSS
// (media:content, also in media:group, else media:thumbnail), an image
// enclosure, the item's itunes:image, the JSON Feed image (else banner
// image), the first image of the content, an itunes:image written with url
// instead of href. URLs in feed fields resolve
// against base. An image without a caption of its own takes the one it has
// in the content (its figure's figcaption, else its alt text).
func featuredImage(item *gofeed.Item, feedType string, content *articleHTML, base string) image {
	inContent := contentImages(content.root)
	candidates := []image{
		mediaImage(item.Extensions, base),
		enclosureImage(item.Enclosures, base),
		itunesImage(item, base),
	}
	if feedType == "json" && item.Image != nil {
		candidates = append(candidates, image{URL: resolveURL(item.Image.URL, base)})
	}
	if len(inContent) > 0 {
		candidates = append(candidates, inContent[0])
	}
	candidates = append(candidates, itunesURLImage(item, base))
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

// itunesImage is the item's <itunes:image href>.
func itunesImage(item *gofeed.Item, base string) image {
	if item.ITunesExt != nil {
		if u := resolveURL(item.ITunesExt.Image, base); u != "" {
			return image{URL: u}
		}
	}
	for _, e := range item.Extensions["itunes"]["image"] {
		if u := resolveURL(firstNonEmpty(e.Attrs["href"], e.Value), base); u != "" {
			return image{URL: u}
		}
	}
	return image{}
}

// itunesURLImage is the item's <itunes:image url>, a common mistake for
// href: the image when no other is known.
func itunesURLImage(item *gofeed.Item, base string) image {
	for _, e := range item.Extensions["itunes"]["image"] {
		if u := resolveURL(e.Attrs["url"], base); u != "" {
			return image{URL: u}
		}
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

// contentImages lists the images of the content (whose URLs are already
// absolute) in document order, each with its figure's caption, else its
// alt text.
func contentImages(root *html.Node) []image {
	var found []image
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Img {
			if url := resolveURL(attr(n, "src"), ""); url != "" {
				found = append(found, image{URL: url, Caption: imageCaption(n)})
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(root)
	return found
}

func imageCaption(img *html.Node) string {
	// A figure holds its image closely (figure > a > picture > img); the
	// bound keeps deeply nested HTML with many images linear.
	depth := 0
	for n := img.Parent; n != nil && depth < 8; n, depth = n.Parent, depth+1 {
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
