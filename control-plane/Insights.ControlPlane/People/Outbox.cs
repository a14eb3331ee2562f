using Insights.ControlPlane.Model;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Insights.ControlPlane.People;

/// <summary>
/// Mail is written to the outbox table in the same <c>SaveChanges</c> as the row that makes it true (a link, an
/// invitation): there is never a mailed link that does not exist, nor a link whose mail was lost.
/// </summary>
public static class Outbox
{
    public static void Add(ControlPlaneDb db, string to, string subject, string body, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(db);
        db.Outbox.Add(new OutboxMail { To = to, Subject = subject, TextBody = body, CreatedAt = now });
    }
}

/// <summary>
/// Delivers the outbox over SMTP with MailKit (Microsoft's own advice for new code: <c>System.Net.Mail.SmtpClient</c>
/// lacks modern protocol support and is kept for compatibility only; MailKit does STARTTLS, implicit TLS, SASL and
/// reports SMTP replies precisely). Without <see cref="MailOptions.Host"/> it does nothing: mail stays in the outbox,
/// where tests and the dashboard read it. A failed mail is retried on later rounds up to <see cref="MailOptions.MaxAttempts"/>.
/// </summary>
public sealed class SmtpOutboxSender(IDbContextFactory<ControlPlaneDb> dbs, IOptions<MailOptions> options, TimeProvider time, ILogger<SmtpOutboxSender> logger)
    : BackgroundService
{
    private const int BatchSize = 50;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (string.IsNullOrWhiteSpace(settings.Host))
        {
            logger.MailStaysInOutbox();
            return;
        }

        var from = MailboxAddress.Parse(settings.From);
        using var timer = new PeriodicTimer(settings.PollInterval, time);
        do
        {
            try
            {
                await SendPendingAsync(settings, from, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The store or the server is down: the mail stays in the outbox and the next round tries again.
                logger.OutboxRoundFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task SendPendingAsync(MailOptions settings, MailboxAddress from, CancellationToken cancellationToken)
    {
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var pending = await db.Outbox.Where(m => m.SentAt == null && m.Attempts < settings.MaxAttempts)
            .OrderBy(m => m.Id).Take(BatchSize).ToListAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return;
        }

        using var smtp = new SmtpClient();
        await smtp.ConnectAsync(settings.Host!, settings.Port, settings.Security switch
        {
            MailSecurity.Tls => SecureSocketOptions.SslOnConnect,
            MailSecurity.None => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTls,
        }, cancellationToken);
        if (!string.IsNullOrEmpty(settings.UserName))
        {
            await smtp.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
        }

        foreach (var mail in pending)
        {
            mail.Attempts++;
            try
            {
                using var message = new MimeMessage([from], [MailboxAddress.Parse(mail.To)], mail.Subject, new TextPart("plain") { Text = mail.TextBody });
                await smtp.SendAsync(message, cancellationToken);
                mail.SentAt = time.GetUtcNow();
                mail.LastError = null;
            }
            catch (Exception e) when (e is SmtpCommandException or ParseException)
            {
                // This mail is refused (bad address, rejected recipient); the others may still go.
                mail.LastError = e.Message.Length > 500 ? e.Message[..500] : e.Message;
                logger.MailRefused(mail.Id, e.Message);
            }

            // Saved per mail: a crash between two sends must not send the first one again.
            await db.SaveChangesAsync(CancellationToken.None);
        }

        await smtp.DisconnectAsync(quit: true, cancellationToken);
    }
}
