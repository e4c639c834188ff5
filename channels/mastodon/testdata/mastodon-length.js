#!/usr/bin/env node
// Counts statuses as Mastodon's StatusLengthValidator does, for the
// differential test of count.go (TestLengthAgainstMastodon, FuzzLength).
//
// Input, on stdin: one JSON value a line, a string (the status text) or an
// object {"text": "...", "spoiler": "..."}. Output: one line each, the
// length Mastodon compares with its limit. With --explain, each output
// line is a JSON object with the count and the text as rewritten for
// counting. With --tlds, it prints the top-level domains twitter-text
// knows, in the order its regular expression tries them, and exits.
//
// The rules, as Mastodon applies them:
//   - the text is blank (only White_Space) → it counts nothing; otherwise
//   - the URLs twitter-text's extract_urls_with_indices finds, with a
//     protocol, count 23 characters each; Mastodon replaces part of
//     twitter-text's valid_url (config/initializers/twitter_regex.rb): its
//     own list of protocols, path characters (anything but White_Space,
//     <, >, parentheses and ?), path ending characters, balanced
//     parentheses and query characters;
//   - the mentions Account::MENTION_RE finds count as @user: a remote
//     @user@domain loses its @domain; a mention followed by an @, a
//     Latin accented letter or :// is none, nor is one whose domain is over
//     253 characters (Mastodon's Extractor);
//   - entities that overlap an earlier one are dropped;
//   - the content warning, then the rewritten text, count in grapheme
//     clusters.
//
// The building blocks Mastodon keeps from twitter-text come from the npm
// package twitter-text 3.1.0 (the version of the gem Mastodon runs): its list of
// top-level domains with their lookahead, its preceding characters, spaces,
// directional and invalid characters, Latin accents, @ signs and ports.
// Mastodon runs the Ruby gem, whose extractor differs from the JavaScript
// one in a few details; this script follows the gem:
//   - a domain character is anything but ASCII punctuation (the gem counts
//     " and ` as punctuation and the backslash not), spaces, control,
//     directional and invalid characters;
//   - a punycode top-level domain is xn-- and letters or digits, no hyphen;
//   - a t.co URL is cut after its slug (its query is text), and one whose
//     slug is over 40 characters is no URL, before the length is checked;
//   - a URL is no URL when it is over 4,096 characters, its domain as
//     punycode: code points, the protocol counted once;
//   - a domain is checked as libidn's ToASCII checks it: a label that is
//     not ASCII goes through nameprep (RFC 3491, its tables of Unicode 3.2
//     from Python's stringprep module, written by testdata/nameprep.py),
//     then must not start with xn--, unless it became ASCII; every label
//     is 1 to 63 characters once encoded.
// Regular expressions run with the u and i flags, which match as Ruby's
// Onigmo does: Unicode classes and case folding (ſ is an s, K a k); the
// literals spell out the full case foldings Onigmo also matches (ß is ss).
'use strict';

const readline = require('readline');
const punycode = require('punycode/'); // the package, not Node's deprecated core module

const tt = (name) => require(`twitter-text/dist/regexp/${name}`).source;

const latinAccents = tt('latinAccentChars');
const directional = tt('directionalMarkersGroup');
const invalid = tt('invalidCharsGroup');
const spaces = tt('spacesGroup');
const atSigns = tt('atSigns');
// A top-level domain list as twitter-text writes it: (?:(?:a|b|…)lookahead).
const splitTLDs = (source) => {
  const m = /^\(\?:\(\?:(.*?)\)(\(\?=.*\)\))$/.exec(source);
  return { list: m[1].split('|'), lookahead: m[2] };
};
const port = tt('validPortNumber');

// twitter-text's valid_url, in the gem's version.
const punct = '!"#$%&\'()*+,\\-./:;<=>?@\\[\\]^_`{|}~';
const domainChar = `[^${directional}${punct}\\x00-\\x1F\\x7F${invalid}${spaces}]`;
const subdomain = `(?:(?:${domainChar}(?:[_\\-]|${domainChar})*)?${domainChar}\\.)`;
const domainName = `(?:(?:${domainChar}(?:-|${domainChar})*)?${domainChar}\\.)`;
const punycodeTLD = '(?:xn--[0-9a-z]+)';
// Onigmo matches a literal case-insensitively with full case folding: ß
// is ss to it, ﬁ is fi. JavaScript folds one character to one only, so
// the literals (top-level domains, protocols) spell those out.
const multiFolds = { ss: 'ßẞ', ff: 'ﬀ', fi: 'ﬁ', fl: 'ﬂ', ffi: 'ﬃ', ffl: 'ﬄ', st: 'ﬅﬆ' };
const escape = (c) => c.replace(/[\\^$.*+?()[\]{}|\/]/g, '\\$&');
function folded(literal, i = 0) {
  if (i >= literal.length) return '';
  const ways = [escape(literal[i]) + folded(literal, i + 1)];
  for (const [seq, chars] of Object.entries(multiFolds)) {
    if (literal.startsWith(seq, i)) ways.push(`[${chars}]` + folded(literal, i + seq.length));
  }
  return ways.length === 1 ? ways[0] : `(?:${ways.join('|')})`;
}
const tldRE = (source) => {
  const { list, lookahead } = splitTLDs(source);
  return `(?:(?:${list.map((t) => folded(t)).join('|')})${lookahead}`;
};
const domain = `(?:${subdomain}*${domainName}(?:${tldRE(tt('validGTLD'))}|${tldRE(tt('validCCTLD'))}|${punycodeTLD}))`;
const preceding = `(?:[^A-Z0-9@＠$#＃${invalid}]|[${directional}]|^)`;

// Mastodon's replacements.
const protocols = `(?:https?|dat|dweb|ipfs|ipns|${folded('ssb')}|gopher|gemini):\\/\\/`;
const pathChar = '[^\\p{White_Space}<>()?]';
const parens = (c) => `\\((?:${c}+|(?:${c}*\\(${c}+\\)${c}*))\\)`;
// Mastodon's path ending characters take twitter-text's balanced
// parentheses as they were before Mastodon replaces them, made of
// twitter-text's own path characters.
const gemPathChar = `[a-z\\p{Script=Cyrillic}0-9!*';:=+,.$\\/%#\\[\\]\\p{Pd}_~&|@${latinAccents}]`;
const pathEnding = `(?:[^\\p{White_Space}()?!*"'「」<>;:=,.$%\\[\\]~&|@]|${parens(gemPathChar)})`;
const path = `(?:(?:${pathChar}*(?:${parens(pathChar)}${pathChar}*)*${pathEnding})|(?:${pathChar}+\\/))`;
const uchars = '\\u{A0}-\\u{D7FF}\\u{F900}-\\u{FDCF}\\u{FDF0}-\\u{FFEF}\\u{10000}-\\u{1FFFD}\\u{20000}-\\u{2FFFD}' +
  '\\u{30000}-\\u{3FFFD}\\u{40000}-\\u{4FFFD}\\u{50000}-\\u{5FFFD}\\u{60000}-\\u{6FFFD}\\u{70000}-\\u{7FFFD}' +
  '\\u{80000}-\\u{8FFFD}\\u{90000}-\\u{9FFFD}\\u{A0000}-\\u{AFFFD}\\u{B0000}-\\u{BFFFD}\\u{C0000}-\\u{CFFFD}' +
  '\\u{D0000}-\\u{DFFFD}\\u{E1000}-\\u{EFFFD}\\u{E000}-\\u{F8FF}\\u{F0000}-\\u{FFFFD}\\u{100000}-\\u{10FFFD}';
const queryChar = `[a-z0-9!?*'();:&=+$\\/%#\\[\\]\\-_.,~|@\\^${uchars}]`;
const queryEnding = `[a-z0-9_&=#\\/\\-${uchars}]`;

// m: Ruby's ^ and $ are line anchors.
const validURL = new RegExp(
  `(?<pre>${preceding})(?<url>(?<protocol>${protocols})?(?<domain>${domain})(?::${port})?(?:\\/${path}*)?(?:\\?${queryChar}*${queryEnding})?)`,
  'gimu');
const tcoURL = /^https?:\/\/t\.co\/([a-z0-9]+)/iu;

// Account::MENTION_RE: [[:word:]] is Alphabetic, marks, decimal digits and
// connectors in Onigmo; the user part is matched case-insensitively.
const word = '[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}]';
const user = '[a-zA-Z0-9_\\u017F\\u212A]';
const mentionRE = new RegExp(
  `(?<![=\\/]|${word})@((${user}+(?:[.\\-]+${user}+)*)(?:@${word}+(?:[.\\-]+${word}+)*)?)`, 'gu');
const endMention = new RegExp(`^(?:${atSigns}|[${latinAccents}]+|:\\/\\/)`, 'iu');

const codePoints = (s) => [...s].length;

// libidn's nameprep, in part: the tables of RFC 3454 (Unicode 3.2) that
// decide whether a label passes, as Python's stringprep module has them
// (testdata/nameprep.py writes them).
const nameprepTables = require('./nameprep.json');
const inTable = (name, cp) => {
  const t = nameprepTables[name];
  let lo = 0;
  let hi = t.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < t[mid][0]) hi = mid - 1;
    else if (cp > t[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
};

// nameprep, as RFC 3491 says: the characters mapped to nothing dropped,
// case folded (table B.2), normalised to NFKC; then no prohibited
// character, and right-to-left letters only when the label starts and
// ends with one and has no left-to-right one. A character Unicode 3.2 had
// not assigned refuses the label (libidn leaves it as it is, to refuse).
function nameprep(label) {
  let mapped = '';
  for (const c of label) {
    const cp = c.codePointAt(0);
    if (inTable('deleted', cp)) continue;
    if (inTable('unassigned', cp)) return null;
    mapped += nameprepTables.folding[cp] ?? c;
  }
  const prepped = [...mapped.normalize('NFKC')];
  let rtl = false;
  let ltr = false;
  for (const c of prepped) {
    const cp = c.codePointAt(0);
    if (inTable('prohibited', cp)) return null;
    if (inTable('randal', cp)) rtl = true;
    else if (inTable('l', cp)) ltr = true;
  }
  const randal = (c) => c !== undefined && inTable('randal', c.codePointAt(0));
  if (rtl && (ltr || !randal(prepped[0]) || !randal(prepped[prepped.length - 1]))) return null;
  return prepped.join('');
}

// The gem's is_valid_domain: libidn's ToASCII (without flags), then the
// length of the URL with its domain as punycode.
function validURLLength(url, dom) {
  const labels = dom.split(/[.\u3002\uFF0E\uFF61]/);
  const ascii = [];
  for (let i = 0; i < labels.length; i++) {
    let label = labels[i];
    if (label === '' && i === labels.length - 1 && i > 0) {
      ascii.push('');
      continue;
    }
    if (/[^\x00-\x7F]/.test(label)) {
      label = nameprep(label);
      if (label === null) return false;
      if (/[^\x00-\x7F]/.test(label)) {
        if (/^xn--/i.test(label)) return false;
        // Each code point takes a character at least once encoded (and a
        // long label could overflow the encoder).
        if (codePoints(label) > 63 - 4) return false;
        label = 'xn--' + punycode.encode(label);
      }
    }
    if (label.length < 1 || label.length > 63) return false;
    ascii.push(label);
  }
  let length = codePoints(url);
  const grown = codePoints(ascii.join('.')) - codePoints(dom);
  if (grown > 0) length += grown;
  return length <= 4096;
}

// The gem's extract_urls_with_indices(text, extract_url_without_protocol: false).
function extractURLs(text) {
  const out = [];
  if (!text.includes(':')) return out;
  validURL.lastIndex = 0;
  for (let m; (m = validURL.exec(text));) {
    const g = m.groups;
    if (!g.protocol) continue; // found, and skipped: the scan goes on after it
    let url = g.url;
    const tco = tcoURL.exec(url);
    if (tco) {
      if (codePoints(tco[1]) > 40) continue;
      url = tco[0];
    }
    if (!validURLLength(url, g.domain)) continue;
    const start = m.index + g.pre.length;
    out.push({ start, end: start + url.length, url: true });
  }
  return out;
}

// Mastodon's Extractor.extract_mentions_or_lists_with_indices.
function extractMentions(text) {
  const out = [];
  if (!/[@＠]/.test(text)) return out;
  mentionRE.lastIndex = 0;
  for (let m; (m = mentionRE.exec(text));) {
    if (endMention.test(text.slice(mentionRE.lastIndex))) continue;
    const [username, dom] = m[1].split('@');
    if (dom && codePoints(dom) > 253) continue;
    out.push({ start: m.index, end: m.index + m[0].length, replacement: '@' + username });
  }
  return out;
}

// StatusLengthValidator#countable_text.
function countable(text) {
  if (/^\p{White_Space}*$/u.test(text)) return '';
  const entities = extractURLs(text).concat(extractMentions(text)).sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const e of entities) {
    if (e.start < pos) continue; // overlaps the entity before
    out += text.slice(pos, e.start) + (e.url ? 'x'.repeat(23) : e.replacement);
    pos = e.end;
  }
  return out + text.slice(pos);
}

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const graphemes = (s) => {
  let n = 0;
  for (const _ of segmenter.segment(s)) n++; // eslint-disable-line no-unused-vars
  return n;
};

function tlds() {
  return { generic: splitTLDs(tt('validGTLD')).list, country: splitTLDs(tt('validCCTLD')).list };
}

function main() {
  if (process.argv.includes('--tlds')) {
    process.stdout.write(JSON.stringify(tlds()) + '\n');
    return;
  }
  const explain = process.argv.includes('--explain');
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    const v = JSON.parse(line);
    const text = typeof v === 'string' ? v : v.text || '';
    const spoiler = typeof v === 'string' ? '' : v.spoiler || '';
    const rewritten = spoiler + countable(text);
    const n = graphemes(rewritten);
    process.stdout.write((explain ? JSON.stringify({ count: n, countable: rewritten }) : String(n)) + '\n');
  });
}

main();
