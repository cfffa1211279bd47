using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using Paperclip.Backend.Operations;
using Paperclip.Transport;
using Paperclip.Protocol;

namespace Paperclip.GameHost.Tests;

/// <summary>
/// The operator's console in a real browser: Debian's headless Chromium driven through its
/// chromium-driver, against the whole server on a real Kestrel port with real game clients over
/// UDP. Each test leaves a screenshot in <c>screenshots/</c> of the test output.
/// </summary>
public sealed class ConsoleBrowserTests
{
    [Fact]
    public async Task An_admin_sees_a_lobby_and_its_members_watches_the_chart_move_and_closing_the_lobby_disconnects_its_players()
    {
        await using var platform = StartedPlatform();
        await using var admin = await platform.RegisterAdminAsync("operator");
        await using var mario = await platform.RegisterAsync("mario");
        await using var luigi = await platform.RegisterAsync("luigi");
        var lobby = await mario.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);
        var lobbyId = lobby.GetProperty("lobby-id").GetInt64();
        await mario.JoinAsync(lobby);
        await luigi.JoinAsync(await luigi.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.OK));

        using var browser = Browser.Open(platform);
        browser.SignIn(admin);
        var card = browser.Until(d => d.FindElements(By.CssSelector($"article.lobby[data-lobby-id='{lobbyId}']")).SingleOrDefault(c => c.FindElements(By.CssSelector("tr.member")).Count == 2), "the lobby shows both members");
        Assert.Equal(["mario", "luigi"], card.FindElements(By.CssSelector("tr.member td[data-field=username]")).Select(e => e.Text));
        Assert.Equal("full", card.FindElement(By.CssSelector("[data-field=state]")).Text);
        Assert.Equal($"127.0.0.1:{lobby.GetProperty("lobby-addr")[1].GetInt32()}", card.FindElement(By.CssSelector("[data-field=address]")).Text);
        Assert.All(card.FindElements(By.CssSelector("td[data-field=rtt]")), rtt => Assert.EndsWith(" ms", rtt.Text, StringComparison.Ordinal));

        // The players send (moves the game refuses as malformed: each is still a message); the chart follows.
        browser.Driver.ExecuteScript("window.notReloaded = true;");
        using (var sending = new CancellationTokenSource())
        {
            var traffic = Task.Run(async () =>
            {
                while (!sending.IsCancellationRequested)
                {
                    mario.Game!.Send("{\"choice\": 7}"u8, Delivery.Reliable);
                    luigi.Game!.Send("{\"choice\": 7}"u8, Delivery.Reliable);
                    await Task.Delay(10, CancellationToken.None);
                }
            }, CancellationToken.None);
            // A few points of line, the latest above zero: the chart moved while the page stayed.
            browser.Until(d => Rate(d.FindElement(By.Id("value-messages")).Text) > 0 && int.Parse(d.FindElement(By.Id("chart-messages")).GetDomAttribute("data-samples") ?? "0", CultureInfo.InvariantCulture) >= 5 ? true : (bool?)null, "the messages/s chart shows traffic");
            await sending.CancelAsync();
            await traffic;
        }
        Assert.Equal(true, browser.Driver.ExecuteScript("return window.notReloaded === true;"));
        browser.Screenshot(nameof(An_admin_sees_a_lobby_and_its_members_watches_the_chart_move_and_closing_the_lobby_disconnects_its_players));

        card.FindElement(By.CssSelector("button[data-action=close]")).Click();
        Assert.Equal(DisconnectReason.ServerDisconnect, mario.Disconnects.Next().Reason);
        Assert.Equal(DisconnectReason.ServerDisconnect, luigi.Disconnects.Next().Reason);
        browser.Until(d => d.FindElements(By.CssSelector($"article.lobby[data-lobby-id='{lobbyId}']")).Count == 0 ? true : (bool?)null, "the closed lobby leaves the page");
        Assert.Equal($"Lobby {lobbyId} closed.", browser.Driver.FindElement(By.Id("action-status")).Text);
        browser.Screenshot("after-close");
    }

    [Fact]
    public async Task Removing_a_player_disconnects_it_and_it_cannot_come_back()
    {
        await using var platform = StartedPlatform();
        await using var admin = await platform.RegisterAdminAsync("operator");
        await using var peach = await platform.RegisterAsync("peach");
        await using var bowser = await platform.RegisterAsync("bowser");
        var lobby = await peach.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);
        await peach.JoinAsync(lobby);
        await bowser.JoinAsync(await bowser.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.OK));

        using var browser = Browser.Open(platform);
        browser.SignIn(admin);
        var row = browser.Until(d => d.FindElements(By.CssSelector("tr.member")).SingleOrDefault(r => r.FindElement(By.CssSelector("td[data-field=username]")).Text == "bowser"), "bowser's row");
        row.FindElement(By.CssSelector("button[data-action=remove]")).Click();

        Assert.Equal(DisconnectReason.ServerDisconnect, bowser.Disconnects.Next().Reason);
        browser.Until(d => d.FindElements(By.CssSelector("tr.member td[data-field=username]")).Select(e => e.Text).SequenceEqual(["peach"]) ? true : (bool?)null, "only peach is left");
        Assert.Empty(peach.Disconnects);
        browser.Screenshot(nameof(Removing_a_player_disconnects_it_and_it_cannot_come_back));

        // Back with a new handshake to the same lobby: refused (the place is free, the account is not welcome).
        await bowser.LeaveAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => bowser.JoinAsync(lobby));
    }

    [Fact]
    public async Task An_account_without_the_admin_role_is_refused()
    {
        await using var platform = StartedPlatform();
        await using var player = await platform.RegisterAsync("toad");
        using var browser = Browser.Open(platform);
        browser.SignIn(player);
        browser.Until(d => d.FindElement(By.Id("login-error")).Text == "This account is not an admin." ? true : (bool?)null, "the refusal is shown");
        Assert.False(browser.Driver.FindElement(By.Id("main")).Displayed);
        browser.Screenshot(nameof(An_account_without_the_admin_role_is_refused));
    }

    private static Platform StartedPlatform()
    {
        var platform = new Platform();
        platform.UseKestrel(0);
        platform.StartServer();
        return platform;
    }

    private static double Rate(string text) => double.TryParse(text.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture, out var value) ? value : 0;
}

internal static class AdminPlatform
{
    /// <summary>Registers an account and grants it the admin role in the database (what <c>Paperclip.Server admin grant</c> does).</summary>
    public static async Task<Player> RegisterAdminAsync(this Platform platform, string username)
    {
        var player = await platform.RegisterAsync(username);
        await using var scope = platform.Services.CreateAsyncScope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<AdminAccess>().SetAdminAsync(username, true, Platform.Token));
        return player;
    }
}

/// <summary>Headless Chromium from Debian's packages, through Debian's chromium-driver (Selenium downloads nothing).</summary>
internal sealed class Browser : IDisposable
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string DriverPath = "/usr/bin/chromedriver";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly Uri _root;

    private Browser(ChromeDriver driver, Uri root)
    {
        Driver = driver;
        _root = root;
    }

    public ChromeDriver Driver { get; }

    public static string ScreenshotDirectory => Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static Browser Open(Platform platform)
    {
        if (!File.Exists(ChromiumPath) || !File.Exists(DriverPath))
        {
            // CI (.ci/run) installs both and sets PAPERCLIP_REQUIRE_BROWSER: there a missing browser fails the run.
            Assert.False(Environment.GetEnvironmentVariable("PAPERCLIP_REQUIRE_BROWSER") == "1", $"{ChromiumPath} or {DriverPath} is missing: apt-get install chromium chromium-driver");
            Assert.Skip($"No browser: apt-get install chromium chromium-driver (Debian) to run the console's browser tests.");
        }
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000", "--no-first-run");
        var driver = new ChromeDriver(service, options, Patience);
        return new Browser(driver, platform.ClientOptions.BaseAddress);
    }

    public void SignIn(Player player)
    {
        Driver.Navigate().GoToUrl(new Uri(_root, "/console"));
        Until(d => d.FindElement(By.Id("login-username")).Displayed ? true : (bool?)null, "the sign-in form");
        Driver.FindElement(By.Id("login-username")).SendKeys(player.Username);
        Driver.FindElement(By.Id("login-password")).SendKeys(player.Password);
        Driver.FindElement(By.Id("login-submit")).Click();
    }

    /// <summary>Polls the page until <paramref name="condition"/> gives a value (never a fixed sleep).</summary>
    public T Until<T>(Func<IWebDriver, T?> condition, string because)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                if (condition(Driver) is { } value)
                    return value;
            }
            catch (Exception e) when (e is StaleElementReferenceException or NoSuchElementException)
            {
                // The page re-rendered meanwhile: look again.
            }
            if (DateTime.UtcNow > deadline)
            {
                Screenshot("timeout-" + because.Replace(' ', '-'));
                Assert.Fail($"Timed out waiting until {because}. Page text:\n{Driver.FindElement(By.TagName("body")).Text}");
            }
            Thread.Sleep(50);
        }
    }

    public void Screenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        Driver.GetScreenshot().SaveAsFile(Path.Combine(ScreenshotDirectory, name + ".png"));
    }

    public void Dispose() => Driver.Quit();
}
