package enrichments

import (
	"strings"
)

// builtinRefererDatabase is the database name of the built-in referer list in a
// referer_parser configuration (with uri "builtin:").
const builtinRefererDatabase = "snowplow-mini-builtin"

// builtinReferers is snowplow-mini's own referer list: the widely used search engines (with
// the query parameter that carries the search term), social networks, webmail services,
// AI chat assistants and ad networks. It is deliberately short; point referer_parser at a
// full database file for more. Each provider is "Name|domain domain…|param param…".
var builtinReferers = map[string][]string{
	"search": {
		"Google|google.com google.co.uk google.de google.fr google.ca google.com.au google.co.in google.co.jp google.es google.it google.nl google.com.br google.pl google.ru google.com.mx google.se google.ch google.at google.be google.dk google.no google.fi google.pt google.ie google.co.nz google.co.za google.com.ar google.com.tr google.cz google.gr google.hu google.ro google.co.kr google.com.sg google.com.hk google.com.tw google.co.id google.com.ph google.com.my google.co.th google.com.vn google.com.ua google.co.il google.ae google.com.sa google.com.eg google.cl google.com.co google.com.pe google.sk google.bg google.hr google.lt google.lv google.ee google.si google.rs google.kz google.com.pk google.com.bd google.com.ng google.co.ke|q",
		"Bing|bing.com cn.bing.com|q Q",
		"Yahoo!|search.yahoo.com yahoo.com uk.search.yahoo.com de.search.yahoo.com fr.search.yahoo.com ca.search.yahoo.com au.search.yahoo.com es.search.yahoo.com it.search.yahoo.com br.search.yahoo.com|p q",
		"Yahoo! Japan|search.yahoo.co.jp|p",
		"DuckDuckGo|duckduckgo.com html.duckduckgo.com lite.duckduckgo.com|q",
		"Baidu|baidu.com m.baidu.com|wd word kw",
		"Yandex|yandex.ru yandex.com yandex.ua yandex.by yandex.kz yandex.com.tr ya.ru|text",
		"Ecosia|ecosia.org|q",
		"Ask|ask.com|q",
		"AOL|search.aol.com aol.com|q query",
		"Naver|search.naver.com naver.com|query",
		"Daum|search.daum.net|q",
		"Seznam|search.seznam.cz seznam.cz|q",
		"Qwant|qwant.com lite.qwant.com|q",
		"Startpage|startpage.com|query q",
		"Brave|search.brave.com|q",
		"Sogou|sogou.com m.sogou.com|query keyword",
		"360 Search|so.com m.so.com|q",
		"Mail.ru|go.mail.ru|q",
		"Rambler|nova.rambler.ru|query",
		"Swisscows|swisscows.com|query",
		"Mojeek|mojeek.com|q",
		"Kagi|kagi.com|q",
		"Dogpile|dogpile.com|q",
		"Lycos|search.lycos.com|q",
		"Yahoo! Taiwan|tw.search.yahoo.com|p",
	},
	"social": {
		"Facebook|facebook.com m.facebook.com l.facebook.com lm.facebook.com fb.com fb.me|",
		"Instagram|instagram.com l.instagram.com|",
		"Twitter|twitter.com t.co x.com mobile.twitter.com|",
		"LinkedIn|linkedin.com lnkd.in|",
		"Pinterest|pinterest.com pinterest.co.uk pinterest.de pinterest.fr pin.it|",
		"Reddit|reddit.com old.reddit.com out.reddit.com|",
		"YouTube|youtube.com m.youtube.com youtu.be|",
		"TikTok|tiktok.com|",
		"Tumblr|tumblr.com t.umblr.com|",
		"VKontakte|vk.com|",
		"Odnoklassniki|ok.ru|",
		"Snapchat|snapchat.com|",
		"WhatsApp|whatsapp.com web.whatsapp.com wa.me|",
		"Telegram|t.me web.telegram.org|",
		"Quora|quora.com|",
		"Weibo|weibo.com t.cn|",
		"Mastodon|mastodon.social|",
		"Threads|threads.net|",
		"Bluesky|bsky.app|",
		"Discord|discord.com|",
		"Hacker News|news.ycombinator.com|",
		"Medium|medium.com|",
		"Xing|xing.com|",
		"Flickr|flickr.com|",
		"Vimeo|vimeo.com|",
		"Twitch|twitch.tv|",
		"Stack Overflow|stackoverflow.com|",
	},
	"email": {
		"Gmail|mail.google.com inbox.google.com|",
		"Outlook.com|outlook.live.com mail.live.com|",
		"Outlook|outlook.office.com outlook.office365.com|",
		"Yahoo! Mail|mail.yahoo.com mail.yahoo.co.jp|",
		"AOL Mail|mail.aol.com|",
		"Proton Mail|mail.proton.me mail.protonmail.com|",
		"Zoho Mail|mail.zoho.com|",
		"Yandex Mail|mail.yandex.ru mail.yandex.com|",
		"Mail.ru|e.mail.ru|",
		"GMX|gmx.net gmx.com gmx.de|",
		"Fastmail|fastmail.com app.fastmail.com|",
	},
	"chatbot": {
		"ChatGPT|chatgpt.com chat.openai.com|",
		"Perplexity|perplexity.ai|",
		"Gemini|gemini.google.com|",
		"Copilot|copilot.microsoft.com|",
		"Claude|claude.ai|",
	},
	"paid": {
		"Google|googleadservices.com doubleclick.net googlesyndication.com|",
		"Outbrain|outbrain.com|",
		"Taboola|taboola.com|",
	},
}

// builtinRefererDB returns the built-in list in the referer database structure.
func builtinRefererDB() refererDB {
	db := refererDB{}
	for medium, providers := range builtinReferers {
		m := map[string]refererSource{}
		for _, p := range providers {
			parts := strings.Split(p, "|")
			m[parts[0]] = refererSource{Domains: strings.Fields(parts[1]), Parameters: strings.Fields(parts[2])}
		}
		db[medium] = m
	}
	return db
}
