using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Paperclip.Backend.Data.Configurations;

/// <summary>The <see cref="Account"/> table.</summary>
public sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    /// <summary>The longest user name.</summary>
    public const int MaxUsernameLength = 32;

    /// <inheritdoc />
    public void Configure(EntityTypeBuilder<Account> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ToTable("accounts");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(a => a.Username).HasColumnName("username").HasMaxLength(MaxUsernameLength).IsRequired();
        builder.Property(a => a.NormalizedUsername).HasColumnName("normalized_username").HasMaxLength(MaxUsernameLength).IsRequired();
        builder.HasIndex(a => a.NormalizedUsername).IsUnique();
        builder.Property(a => a.PasswordHash).HasColumnName("password_hash").IsRequired();
        builder.Property(a => a.PasswordSalt).HasColumnName("password_salt").IsRequired();
        builder.Property(a => a.PasswordIterations).HasColumnName("password_iterations");
        builder.Property(a => a.PublicKey).HasColumnName("public_key").IsRequired();
        builder.Property(a => a.EncryptedPrivateKey).HasColumnName("encrypted_private_key").IsRequired();
        builder.Property(a => a.CreatedAt).HasColumnName("created_at");
        builder.Property(a => a.IsAdmin).HasColumnName("is_admin");
    }
}
