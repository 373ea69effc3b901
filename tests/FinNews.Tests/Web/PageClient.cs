using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;

namespace FinNews.Tests.Web;

/// <summary>A browser-like client for the pages: keeps cookies, does not follow redirects, fills in form tokens.</summary>
internal static partial class PageClient
{
    public static HttpClient Create(WebApplication app) => Create(new Uri(app.Urls.First()));

    public static HttpClient Create(Uri baseAddress) =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>The antiforgery field of the first form on a page.</summary>
    public static KeyValuePair<string, string> Token(string html)
    {
        var m = HiddenToken().Match(html);
        m.Success.Should().BeTrue("the page carries an antiforgery token");
        return new(m.Groups[1].Value, WebUtility.HtmlDecode(m.Groups[2].Value));
    }

    /// <summary>Signs in through the /login form; the client then holds the session cookie.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient http, string key, string returnTo = "/")
    {
        var login = await http.GetStringAsync("/login");
        return await http.PostAsync("/login", new FormUrlEncodedContent([Token(login), new("key", key), new("return", returnTo)]));
    }

    /// <summary>Posts a form with this site's antiforgery token (taken from <paramref name="tokenPage"/>).</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient http, string path, string tokenPage, params KeyValuePair<string, string>[] fields)
    {
        var html = await http.GetStringAsync(tokenPage);
        return await http.PostAsync(path, new FormUrlEncodedContent([Token(html), .. fields]));
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]+)\">")]
    private static partial Regex HiddenToken();
}
