package web

import (
	"strconv"
	"strings"
)

// pageText is every sentence of the subscription pages in one language.
// A %s stands for the address.
type pageText struct {
	Lang, LangName string

	SubscribeTitle, SubscribeIntro, EmailLabel, ListLabel, HoneypotLabel, SubmitButton string
	BadAddress, ChooseList                                                             string

	SentTitle, SentBody string

	ConfirmedTitle, ConfirmedBody string
	InvalidTitle, InvalidBody     string
	ExpiredTitle, ExpiredBody     string
	SubscribeAgain                string

	UnsubscribeTitle, UnsubscribeBody, UnsubscribeButton string
	UnsubscribedTitle, UnsubscribedBody                  string

	LimitedTitle, LimitedBody string
	ErrorTitle, ErrorBody     string
}

var english = pageText{
	Lang: "en", LangName: "English",

	SubscribeTitle: "Subscribe by email",
	SubscribeIntro: "Get the new articles in one email per period. First we send you a link to confirm the address; nothing else is sent until you follow it.",
	EmailLabel:     "Email address",
	ListLabel:      "Newsletter",
	HoneypotLabel:  "Leave this field empty",
	SubmitButton:   "Subscribe",
	BadAddress:     "Enter a valid email address, such as name@example.org.",
	ChooseList:     "Choose a newsletter.",

	SentTitle: "Check your inbox",
	SentBody:  "If the address can receive mail, a message with a confirmation link is on its way. The link is valid for 48 hours.",

	ConfirmedTitle: "Subscription confirmed",
	ConfirmedBody:  "%s will receive the newsletter. Every email has a link to unsubscribe.",
	InvalidTitle:   "This link is not valid",
	InvalidBody:    "It may have been cut or changed on the way. Copy the whole link from the email, or subscribe again.",
	ExpiredTitle:   "This link has expired",
	ExpiredBody:    "Confirmation links are valid for 48 hours. Subscribe again to get a new one.",
	SubscribeAgain: "Subscribe again",

	UnsubscribeTitle:  "Unsubscribe",
	UnsubscribeBody:   "Stop sending the newsletter to %s?",
	UnsubscribeButton: "Unsubscribe",
	UnsubscribedTitle: "You are unsubscribed",
	UnsubscribedBody:  "%s will receive no more emails from this newsletter.",

	LimitedTitle: "Too many requests",
	LimitedBody:  "Please try again later.",
	ErrorTitle:   "Something went wrong",
	ErrorBody:    "Nothing was changed. Please try again in a few minutes.",
}

var spanish = pageText{
	Lang: "es", LangName: "Español",

	SubscribeTitle: "Suscríbete por correo",
	SubscribeIntro: "Recibe los artículos nuevos en un correo periódico. Primero te enviamos un enlace para confirmar la dirección; no te enviaremos nada más hasta que lo sigas.",
	EmailLabel:     "Correo electrónico",
	ListLabel:      "Boletín",
	HoneypotLabel:  "Deja este campo vacío",
	SubmitButton:   "Suscribirme",
	BadAddress:     "Escribe una dirección de correo válida, como nombre@ejemplo.org.",
	ChooseList:     "Elige un boletín.",

	SentTitle: "Revisa tu correo",
	SentBody:  "Si la dirección puede recibir correo, te llegará un mensaje con un enlace de confirmación. El enlace es válido durante 48 horas.",

	ConfirmedTitle: "Suscripción confirmada",
	ConfirmedBody:  "%s recibirá el boletín. Cada correo incluye un enlace para darse de baja.",
	InvalidTitle:   "Este enlace no es válido",
	InvalidBody:    "Puede que se haya cortado o modificado por el camino. Copia el enlace completo del correo, o suscríbete de nuevo.",
	ExpiredTitle:   "Este enlace ha caducado",
	ExpiredBody:    "Los enlaces de confirmación son válidos durante 48 horas. Suscríbete de nuevo para recibir otro.",
	SubscribeAgain: "Suscribirme de nuevo",

	UnsubscribeTitle:  "Darse de baja",
	UnsubscribeBody:   "¿Dejar de enviar el boletín a %s?",
	UnsubscribeButton: "Darme de baja",
	UnsubscribedTitle: "Te has dado de baja",
	UnsubscribedBody:  "%s no recibirá más correos de este boletín.",

	LimitedTitle: "Demasiadas solicitudes",
	LimitedBody:  "Inténtalo de nuevo más tarde.",
	ErrorTitle:   "Algo ha fallado",
	ErrorBody:    "No se ha cambiado nada. Inténtalo de nuevo dentro de unos minutos.",
}

var pageTexts = map[string]*pageText{"en": &english, "es": &spanish}

// textFor returns the pages' language for a language tag (es, es-AR →
// Spanish); ok is false when the pages do not speak it.
func textFor(tag string) (t *pageText, ok bool) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	t, ok = pageTexts[base]
	return t, ok
}

// acceptLanguage picks the language of an Accept-Language header the
// pages speak, by q-value then order; English when none.
func acceptLanguage(header string) *pageText {
	best, bestQ := &english, 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if t, ok := textFor(tag); ok && q > bestQ {
			best, bestQ = t, q
		}
	}
	return best
}
