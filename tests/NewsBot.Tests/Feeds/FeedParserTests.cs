using System.Text;

using NewsBot.Feeds;

namespace NewsBot.Tests.Feeds;

public class FeedParserTests
{
    private static ParsedFeed Parse(string xml, string? contentType = null, Uri? baseUri = null) =>
        FeedParser.Parse(Encoding.UTF8.GetBytes(xml), contentType, baseUri);

    [Fact]
    public void Parse_Rss20_ReadsChannelAndItems()
    {
        var feed = Parse("""
            <?xml version="1.0" encoding="utf-8"?>
            <rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
              <channel>
                <title>Example &amp; Co</title>
                <link>https://example.com/</link>
                <atom:link rel="next" href="https://example.com/feed?page=2"/>
                <image><title>Logo title</title><link>https://example.com/logo</link></image>
                <item>
                  <title>First</title>
                  <link>/posts/1</link>
                  <guid isPermaLink="false">post-1</guid>
                  <description>&lt;p&gt;Summary&lt;/p&gt;</description>
                  <content:encoded><![CDATA[<p>Full <b>body</b></p>]]></content:encoded>
                  <dc:creator>Ann</dc:creator>
                  <pubDate>Tue, 01 Oct 2019 14:30:00 PST</pubDate>
                  <category domain="https://example.com/tags">news</category>
                  <category>tech</category>
                </item>
              </channel>
            </rss>
            """);

        Assert.Equal(FeedType.Rss, feed.Type);
        Assert.Equal("Example & Co", feed.Title);
        Assert.Equal("https://example.com/", feed.Link);
        Assert.Equal("https://example.com/feed?page=2", feed.NextLink);
        var item = Assert.Single(feed.Items);
        Assert.Equal("First", item.Title);
        Assert.Equal("https://example.com/posts/1", item.Url);
        Assert.Equal("post-1", item.Id);
        Assert.Equal("<p>Summary</p>", item.SummaryHtml);
        Assert.Equal("<p>Full <b>body</b></p>", item.ContentHtml);
        Assert.Equal("Ann", item.Author);
        Assert.Equal(new DateTimeOffset(2019, 10, 1, 22, 30, 0, TimeSpan.Zero), item.Published);
        Assert.Equal(["news", "tech"], item.Labels);
        Assert.Equal("https://example.com/tags", item.Categories[0].Scheme);
    }

    [Fact]
    public void Parse_RssItemWithoutLink_UsesPermalinkGuid()
    {
        var feed = Parse("""
            <rss version="2.0"><channel><title>t</title>
              <item><guid>https://example.com/a</guid><title>A</title></item>
              <item><guid isPermaLink="false">https://example.com/b</guid><title>B</title></item>
            </channel></rss>
            """);

        Assert.Equal("https://example.com/a", feed.Items[0].Url);
        Assert.Null(feed.Items[1].Url);
        Assert.Equal("https://example.com/b", feed.Items[1].Id);
    }

    [Fact]
    public void Parse_Rss10_ReadsItemsBesideChannel()
    {
        var feed = Parse("""
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
              <channel rdf:about="https://example.org/rss"><title>RDF feed</title><link>https://example.org/</link></channel>
              <item rdf:about="https://example.org/1"><title>One</title><link>https://example.org/1</link><dc:date>2004-01-01T19:48:21Z</dc:date><dc:subject>x</dc:subject></item>
              <item rdf:about="https://example.org/2"><title>Two</title><link>https://example.org/2</link></item>
            </rdf:RDF>
            """);

        Assert.Equal("RDF feed", feed.Title);
        Assert.Equal(2, feed.Items.Count);
        Assert.Equal("https://example.org/1", feed.Items[0].Id);
        Assert.Equal(new DateTimeOffset(2004, 1, 1, 19, 48, 21, TimeSpan.Zero), feed.Items[0].Published);
        Assert.Equal(["x"], feed.Items[0].Labels);
    }

    [Fact]
    public void Parse_AtomBlogger_ReadsIdsLinksAndLabels()
    {
        var feed = Parse("""
            <?xml version='1.0' encoding='UTF-8'?>
            <feed xmlns="http://www.w3.org/2005/Atom" xmlns:openSearch="http://a9.com/-/spec/opensearchrss/1.0/">
              <id>tag:blogger.com,1999:blog-42</id>
              <title type="text">A blog</title>
              <link rel="alternate" type="text/html" href="https://a.blogspot.com/"/>
              <link rel="next" type="application/atom+xml" href="https://www.blogger.com/feeds/42/posts/default?start-index=26&amp;max-results=25"/>
              <author><name>Owner</name></author>
              <entry>
                <id>tag:blogger.com,1999:blog-42.post-7</id>
                <published>2007-12-14T23:15:00.000-08:00</published>
                <updated>2007-12-15T11:35:51.128-08:00</updated>
                <category scheme="http://schemas.google.com/g/2005#kind" term="http://schemas.google.com/blogger/2008/kind#post"/>
                <category scheme="http://www.blogger.com/atom/ns#" term="cats"/>
                <title type="html">Cats &amp;amp; &lt;b&gt;dogs&lt;/b&gt;</title>
                <content type="html">&lt;p&gt;Hi&lt;/p&gt;</content>
                <link rel="edit" href="https://www.blogger.com/feeds/42/posts/default/7"/>
                <link rel="alternate" type="text/html" href="https://a.blogspot.com/2007/12/post.html"/>
              </entry>
            </feed>
            """);

        Assert.Equal(FeedType.Atom, feed.Type);
        Assert.Equal("tag:blogger.com,1999:blog-42", feed.Id);
        Assert.Equal("https://a.blogspot.com/", feed.Link);
        Assert.Equal("https://www.blogger.com/feeds/42/posts/default?start-index=26&max-results=25", feed.NextLink);
        var entry = Assert.Single(feed.Items);
        Assert.Equal("tag:blogger.com,1999:blog-42.post-7", entry.Id);
        Assert.Equal("Cats & dogs", entry.Title);
        Assert.Equal("https://a.blogspot.com/2007/12/post.html", entry.Url);
        Assert.Equal(["cats"], entry.Labels);
        Assert.Equal("Owner", entry.Author);
        Assert.Equal("<p>Hi</p>", entry.ContentHtml);
        Assert.Equal(DateTimeOffset.Parse("2007-12-14T23:15:00-08:00"), entry.Published);
        Assert.Equal(DateTimeOffset.Parse("2007-12-15T11:35:51.128-08:00"), entry.Updated);
    }

    [Fact]
    public void Parse_AtomXhtmlAndText_ProduceHtml()
    {
        var feed = Parse("""
            <feed xmlns="http://www.w3.org/2005/Atom"><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">X <b>T</b></div></title>
              <entry><title>a &lt; b</title>
                <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Para</p></div></content>
                <summary>1 &lt; 2</summary></entry>
            </feed>
            """);

        Assert.Equal("X T", feed.Title);
        Assert.Equal("a < b", feed.Items[0].Title);
        Assert.Equal("<p>Para</p>", feed.Items[0].ContentHtml);
        Assert.Equal("1 &lt; 2", feed.Items[0].SummaryHtml);
    }

    [Fact]
    public void Parse_AtomXmlBase_ResolvesRelativeLinks()
    {
        var feed = Parse("""
            <feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.com/blog/">
              <link href="index.html"/>
              <entry xml:base="posts/"><link href="one.html"/></entry>
              <entry><link href="/two.html"/></entry>
            </feed>
            """);

        Assert.Equal("https://example.com/blog/index.html", feed.Link);
        Assert.Equal("https://example.com/blog/posts/one.html", feed.Items[0].Url);
        Assert.Equal("https://example.com/two.html", feed.Items[1].Url);
    }

    [Fact]
    public void Parse_RelativeLinkWithoutXmlBase_UsesBaseUri()
    {
        var feed = Parse("<feed xmlns='http://www.w3.org/2005/Atom'><entry><link href='p/1'/></entry></feed>", baseUri: new Uri("https://host.example/feeds/atom.xml"));

        Assert.Equal("https://host.example/feeds/p/1", feed.Items[0].Url);
    }

    [Fact]
    public void Parse_Atom03_IsTolerated()
    {
        var feed = Parse("""
            <feed version="0.3" xmlns="http://purl.org/atom/ns#"><title mode="escaped" type="text/html">&lt;i&gt;Old&lt;/i&gt;</title>
              <entry><id>urn:1</id><issued>2003-12-13T08:29:29-04:00</issued><modified>2003-12-13T18:30:02Z</modified>
                <link rel="alternate" type="text/html" href="http://example.org/1"/></entry></feed>
            """);

        Assert.Equal("Old", feed.Title);
        Assert.Equal("urn:1", feed.Items[0].Id);
        Assert.Equal(new DateTimeOffset(2003, 12, 13, 12, 29, 29, TimeSpan.Zero), feed.Items[0].Published);
        Assert.Equal(new DateTimeOffset(2003, 12, 13, 18, 30, 2, TimeSpan.Zero), feed.Items[0].Updated);
    }

    [Fact]
    public void Parse_JsonFeed_ReadsItems()
    {
        var feed = Parse("""
            {"version":"https://jsonfeed.org/version/1.1","title":"J","home_page_url":"https://j.example/","next_url":"https://j.example/feed2.json",
             "authors":[{"name":"Jay"}],
             "items":[{"id":1,"url":"https://j.example/1","title":"One","content_text":"a < b","date_published":"2020-01-02T03:04:05+01:00","tags":["x","y"]},
                      {"id":"2","content_html":"<p>2</p>"}]}
            """);

        Assert.Equal(FeedType.Json, feed.Type);
        Assert.Equal("J", feed.Title);
        Assert.Equal("https://j.example/", feed.Link);
        Assert.Equal("https://j.example/feed2.json", feed.NextLink);
        Assert.Equal("1", feed.Items[0].Id);
        Assert.Equal("a &lt; b", feed.Items[0].ContentHtml);
        Assert.Equal("Jay", feed.Items[0].Author);
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 2, 4, 5, TimeSpan.Zero), feed.Items[0].Published);
        Assert.Equal(["x", "y"], feed.Items[0].Labels);
        Assert.Equal("<p>2</p>", feed.Items[1].ContentHtml);
    }

    [Fact]
    public void Parse_JsonWithoutVersion_Throws()
    {
        var error = Assert.Throws<FeedFormatException>(() => Parse("""{"title":"not a feed"}"""));
        Assert.Contains("JSON Feed", error.Message);
    }

    [Fact]
    public void Parse_BrokenJson_ThrowsFeedFormatException()
    {
        var error = Assert.Throws<FeedFormatException>(() => Parse("""{"version":"https://jsonfeed.org/version/1", """));
        Assert.Contains("JSON", error.Message);
    }

    [Fact]
    public void Parse_WhitespaceAndBomBeforeDeclaration_IsAccepted()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("\r\n  \n<?xml version=\"1.0\"?><rss><channel><title>ws</title></channel></rss>")).ToArray();

        Assert.Equal("ws", FeedParser.Parse(bytes).Title);
    }

    [Fact]
    public void Parse_UndeclaredHtmlEntities_AreRecovered()
    {
        var feed = Parse("<rss><channel><title>caf&eacute;&nbsp;&hellip; AT&T &bogus; &#233;</title></channel></rss>");

        Assert.Equal("caf\u00e9\u00a0\u2026 AT&T &bogus; \u00e9", feed.Title);
    }

    [Fact]
    public void Parse_EntityRepair_LeavesCdataAlone()
    {
        var feed = Parse("<rss><channel><title>A&nbsp;B</title><item><title><![CDATA[AT&T &copy;]]></title></item></channel></rss>");

        Assert.Equal("A\u00a0B", feed.Title);
        Assert.Equal("AT&T &copy;", feed.Items[0].Title);
    }

    [Fact]
    public void Parse_ExternalEntity_IsRejected()
    {
        var xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <rss><channel><title>&xxe;</title></channel></rss>
            """;

        var error = Assert.Throws<FeedFormatException>(() => Parse(xxe));
        Assert.Contains("line 2", error.Message);
    }

    [Fact]
    public void Parse_BillionLaughs_IsRejected()
    {
        var laughs = new StringBuilder("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
        for (var i = 1; i <= 9; i++)
        {
            laughs.Append($"<!ENTITY lol{i} \"{string.Concat(Enumerable.Repeat($"&lol{i - 1};", 10)).Replace("&lol0;", "&lol;")}\">\n");
        }

        laughs.Append("]>\n<rss><channel><title>&lol9;</title></channel></rss>");

        var error = Assert.Throws<FeedFormatException>(() => Parse(laughs.ToString()));
        Assert.Contains("DTD", error.Message);
    }

    [Fact]
    public void Parse_DoctypeWithoutEntities_IsIgnored()
    {
        var feed = Parse("""
            <?xml version="1.0"?>
            <!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
            <rss version="0.91"><channel><title>old</title></channel></rss>
            """);

        Assert.Equal("old", feed.Title);
    }

    [Fact]
    public void Parse_Latin1BytesDeclaredUtf8_FallBackToWindows1252()
    {
        var bytes = Encoding.Latin1.GetBytes("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel><title>Caf\u00e9 \u00a3</title></channel></rss>");

        Assert.Equal("Caf\u00e9 \u00a3", FeedParser.Parse(bytes).Title);
    }

    [Fact]
    public void Parse_ContentTypeCharset_OverridesDeclaration()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var bytes = Encoding.GetEncoding("koi8-r").GetBytes("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel><title>\u041f\u0440\u0438\u0432\u0435\u0442</title></channel></rss>");

        Assert.Equal("\u041f\u0440\u0438\u0432\u0435\u0442", FeedParser.Parse(bytes, "application/rss+xml; charset=\"KOI8-R\"").Title);
    }

    [Fact]
    public void Parse_DeclaredEncoding_IsUsed()
    {
        var bytes = Encoding.Latin1.GetBytes("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss><channel><title>na\u00efve</title></channel></rss>");

        Assert.Equal("na\u00efve", FeedParser.Parse(bytes).Title);
    }

    [Fact]
    public void Parse_Utf16WithBom_IsDecoded()
    {
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("<?xml version=\"1.0\" encoding=\"utf-16\"?><rss><channel><title>\u00fcber</title></channel></rss>")).ToArray();

        Assert.Equal("\u00fcber", FeedParser.Parse(bytes).Title);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("<html><body>not a feed</body></html>")]
    [InlineData("<rss><channel><title>cut")]
    [InlineData("plain text")]
    [InlineData("<?xml version=\"1.0\"?><rss></channel></rss>")]
    public void Parse_NotAFeed_ThrowsFeedFormatExceptionWithPosition(string input)
    {
        var error = Assert.Throws<FeedFormatException>(() => Parse(input));
        Assert.Matches("(?i)line \\d+", error.Message);
    }

    [Theory]
    [InlineData("Tue, 01 Oct 2019 14:30:00 PST", "2019-10-01T22:30:00Z")]
    [InlineData("Sat, 21 Mar 2020 06:29:51 -0400", "2020-03-21T10:29:51Z")]
    [InlineData("Mon, 21 Mar 2020 06:29 GMT", "2020-03-21T06:29:00Z")]
    [InlineData("Thurs, 1 Jan 2004 19:48:21 +0000", "2004-01-01T19:48:21Z")]
    [InlineData("1 January 04 19:48:21 EDT", "2004-01-01T23:48:21Z")]
    [InlineData("2003-12-31T10:14:55.123-08:00", "2003-12-31T18:14:55.123Z")]
    [InlineData("2003-12-31t10:14:55z", "2003-12-31T10:14:55Z")]
    [InlineData("2003-12-31T10:14:55", "2003-12-31T10:14:55Z")]
    [InlineData("2003-12-31", "2003-12-31T00:00:00Z")]
    [InlineData("2003-12-31 10:14:55 +01:00", "2003-12-31T09:14:55Z")]
    [InlineData("Sat, Dec 16 2023 02:02:33 PM", "2023-12-16T14:02:33Z")]
    public void ParseDate_KnownFormats_ReturnInstant(string text, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected), FeedDates.Parse(text));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("Tue, 31 Feb 2019 14:30:00 GMT")]
    [InlineData("2003-13-45T99:00:00Z")]
    [InlineData("Mon, 01 Jan 0001 00:00:00 +0100")]
    [InlineData("Fri, 31 Dec 9999 23:00:00 -0500")]
    [InlineData("\u03a4\u03c1\u03b9, 29 \u0399\u03bf\u03c5\u03bd 2004 12:53:00 GMT")]
    public void ParseDate_Unparseable_ReturnsNull(string? text)
    {
        Assert.Null(FeedDates.Parse(text));
    }

    [Fact]
    public void Parse_HostileMarkup_OnlyEverThrowsFeedFormatException()
    {
        var nested = string.Concat(Enumerable.Repeat("<media:group>", 5000)) + string.Concat(Enumerable.Repeat("</media:group>", 5000));
        var inputs = new[]
        {
            "<rss><channel><item><description><p>&#xD800; lone surrogate</p></description></item></channel></rss>",
            "<feed xmlns='http://www.w3.org/2005/Atom'><entry><content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>&#xD800; x</p></div></content></entry></feed>",
            $"<rss xmlns:media='http://search.yahoo.com/mrss/'><channel><item>{nested}</item></channel></rss>",
            "<?xml version='1.0' encoding='x-no-such-charset'?><rss><channel><title>t</title></channel></rss>",
            "<feed xmlns='http://www.w3.org/2005/Atom'><entry><content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><b>x</div></content></entry></feed>",
            "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[1,\"x\",{\"id\":{}}],\"author\":7}",
        };

        foreach (var input in inputs)
        {
            try
            {
                Parse(input);
            }
            catch (FeedFormatException)
            {
            }
        }

        Assert.Equal("t", Parse(inputs[3]).Title);
        Assert.Single(Parse(inputs[2]).Items);
    }
}
