package telegram

import (
	"fmt"
	"strconv"
	"strings"
)

// remoteID is what Receipt.RemoteID holds: see the package documentation.
type remoteID struct {
	chat  string // the chat's numeric id or @name; "" for the configured chat
	photo bool   // first is a photo
	first int    // the message, or the photo
	reply int    // the message that follows the photo as a reply; 0 if none
}

func (r remoteID) String() string {
	s := strconv.Itoa(r.first)
	if r.photo {
		s = "photo:" + s
	}
	if r.reply != 0 {
		s += "+" + strconv.Itoa(r.reply)
	}
	if r.chat != "" {
		s = r.chat + "/" + s
	}
	return s
}

func parseRemoteID(s string) (remoteID, error) {
	var r remoteID
	bad := fmt.Errorf("remote id %q: want [CHAT/]ID, [CHAT/]photo:ID or [CHAT/]photo:ID+ID", s)
	rest := s
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		r.chat, rest = s[:i], s[i+1:]
		if !isChatRef(r.chat) {
			return remoteID{}, bad
		}
	}
	rest, r.photo = strings.CutPrefix(rest, "photo:")
	first, reply, split := strings.Cut(rest, "+")
	var err error
	if r.first, err = positive(first); err != nil {
		return remoteID{}, bad
	}
	if split {
		if !r.photo {
			return remoteID{}, bad
		}
		if r.reply, err = positive(reply); err != nil {
			return remoteID{}, bad
		}
	}
	return r, nil
}

func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("not a message id: %q", s)
	}
	return n, nil
}

// isChatRef accepts the chat part of a stored remote id: "@name" (letters,
// digits and _) or an integer, as they were written by any version.
func isChatRef(s string) bool {
	if name, ok := strings.CutPrefix(s, "@"); ok {
		return name != "" && strings.IndexFunc(name, func(r rune) bool {
			return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) < 0
	}
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}
