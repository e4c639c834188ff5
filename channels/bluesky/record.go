package bluesky

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders of the featured images that need scaling down
	"image/jpeg"
	_ "image/png"
	"math"

	comatproto "github.com/bluesky-social/indigo/api/atproto"
	"github.com/bluesky-social/indigo/api/bsky"
	lexutil "github.com/bluesky-social/indigo/lex/util"
	"github.com/bluesky-social/indigo/xrpc"

	"github.com/syndicate-daemon/syndicate/channels"
)

// What the PDS takes of an image in each use; a larger blob uploads but
// its record is refused ("blob too big").
const (
	MaxThumbBytes = 1_000_000 // a link card's thumbnail
	MaxImageBytes = 2_000_000 // an image of app.bsky.embed.images
)

// record makes the post record of p, uploading its featured image when
// its embed uses one. An image that cannot be had or used is left out,
// and the warning says why; err is what must stop the attempt (an expired
// session, a rate limit), for a retry to make the post whole.
func (c *Channel) record(ctx context.Context, x *xrpc.Client, p post) (*lexutil.LexiconTypeDecoder, string, error) {
	rec := &bsky.FeedPost{
		LexiconTypeID: collection,
		Text:          p.Text,
		CreatedAt:     c.cfg.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		Langs:         p.Langs,
	}
	for _, f := range p.Facets {
		feature := &bsky.RichtextFacet_Features_Elem{}
		if f.URL != "" {
			feature.RichtextFacet_Link = &bsky.RichtextFacet_Link{Uri: f.URL}
		} else {
			feature.RichtextFacet_Tag = &bsky.RichtextFacet_Tag{Tag: f.Tag}
		}
		rec.Facets = append(rec.Facets, &bsky.RichtextFacet{
			Index:    &bsky.RichtextFacet_ByteSlice{ByteStart: int64(f.Start), ByteEnd: int64(f.End)},
			Features: []*bsky.RichtextFacet_Features_Elem{feature},
		})
	}
	var warning string
	var blob *lexutil.LexBlob
	var size image.Point
	if p.Image != "" {
		limit := int64(MaxThumbBytes)
		if p.Embed == EmbedImage {
			limit = MaxImageBytes
		}
		var err error
		blob, size, err = c.upload(ctx, x, p.Image, limit)
		switch {
		case isXRPC(err, "ExpiredToken") || isThrottled(err):
			return nil, "", err
		case err != nil:
			warning = channels.WithoutImage(p.Image, err)
			c.cfg.Logger.Warn("bluesky: a post goes without its image", "channel", c.cfg.ID, "image", p.Image, "reason", c.redact(err).Error())
		}
	}
	switch {
	case p.Embed == EmbedCard:
		rec.Embed = &bsky.FeedPost_Embed{EmbedExternal: &bsky.EmbedExternal{External: &bsky.EmbedExternal_External{
			Uri: p.Link, Title: p.Title, Description: p.Summary, Thumb: blob,
		}}}
	case p.Embed == EmbedImage && blob != nil:
		img := &bsky.EmbedImages_Image{Alt: p.Caption, Image: blob}
		if size.X > 0 && size.Y > 0 {
			img.AspectRatio = &bsky.EmbedDefs_AspectRatio{Width: int64(size.X), Height: int64(size.Y)}
		}
		rec.Embed = &bsky.FeedPost_Embed{EmbedImages: &bsky.EmbedImages{Images: []*bsky.EmbedImages_Image{img}}}
	}
	return &lexutil.LexiconTypeDecoder{Val: rec}, warning, nil
}

// upload fetches the image at u, scales it down until it is at most limit
// bytes when it is larger, and uploads it. It returns the blob and the
// image's size in pixels (zero when unknown).
func (c *Channel) upload(ctx context.Context, x *xrpc.Client, u string, limit int64) (*lexutil.LexBlob, image.Point, error) {
	img, err := c.images.Fetch(ctx, u, c.cfg.MaxImageBytes)
	if err != nil {
		return nil, image.Point{}, err
	}
	data, mime, size, err := fit(img.Data, img.ContentType, limit)
	if err != nil {
		return nil, image.Point{}, err
	}
	// The SDK sends uploads as */*; the PDS is told the type.
	typed := *x
	typed.Headers = map[string]string{"Content-Type": mime}
	out, err := comatproto.RepoUploadBlob(ctx, &typed, bytes.NewReader(data))
	if err != nil {
		return nil, image.Point{}, fmt.Errorf("uploading the image: %w", err)
	}
	return out.Blob, size, nil
}

// fit returns data when it is at most limit bytes, else the image scaled
// down and re-encoded as JPEG until it is. WebP, which the standard
// library cannot decode, is taken only as it is.
func fit(data []byte, mime string, limit int64) ([]byte, string, image.Point, error) {
	cfg, _, cfgErr := image.DecodeConfig(bytes.NewReader(data))
	size := image.Point{X: cfg.Width, Y: cfg.Height}
	if int64(len(data)) <= limit {
		return data, mime, size, nil
	}
	if cfgErr != nil {
		return nil, "", image.Point{}, fmt.Errorf("the %s image is %d bytes, over the %d a post may use, and cannot be scaled down", mime, len(data), limit)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", image.Point{}, fmt.Errorf("decoding the image to scale it down: %w", err)
	}
	// JPEG bytes grow with the pixels: start from the ratio, then shrink
	// further until it fits.
	scale := math.Min(1, math.Sqrt(float64(limit)/float64(len(data))))
	for range 8 {
		w, h := max(1, int(float64(size.X)*scale)), max(1, int(float64(size.Y)*scale))
		var b bytes.Buffer
		if err := jpeg.Encode(&b, shrink(src, w, h), &jpeg.Options{Quality: 85}); err != nil {
			return nil, "", image.Point{}, fmt.Errorf("encoding the scaled image: %w", err)
		}
		if int64(b.Len()) <= limit {
			return b.Bytes(), "image/jpeg", image.Point{X: w, Y: h}, nil
		}
		scale *= 0.8 * math.Sqrt(float64(limit)/float64(b.Len()))
	}
	return nil, "", image.Point{}, fmt.Errorf("the image stays over %d bytes however it is scaled", limit)
}

// shrink scales src down to w×h, each pixel the average of those it covers.
func shrink(src image.Image, w, h int) image.Image {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		y0, y1 := b.Min.Y+y*b.Dy()/h, b.Min.Y+max((y+1)*b.Dy()/h, y*b.Dy()/h+1)
		for x := range w {
			x0, x1 := b.Min.X+x*b.Dx()/w, b.Min.X+max((x+1)*b.Dx()/w, x*b.Dx()/w+1)
			var r, g, bl, a, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, ca := src.At(sx, sy).RGBA()
					r, g, bl, a, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca), n+1
				}
			}
			dst.Set(x, y, color.RGBA64{R: uint16(r / n), G: uint16(g / n), B: uint16(bl / n), A: uint16(a / n)})
		}
	}
	return dst
}

// isThrottled reports whether err is a 429.
func isThrottled(err error) bool {
	var xe *xrpc.Error
	return errors.As(err, &xe) && xe.IsThrottled()
}
