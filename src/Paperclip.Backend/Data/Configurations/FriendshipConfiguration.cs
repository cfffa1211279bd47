using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Paperclip.Backend.Data.Configurations;

/// <summary>The <see cref="Friendship"/> table: one row per pair, lower id first.</summary>
public sealed class FriendshipConfiguration : IEntityTypeConfiguration<Friendship>
{
    /// <inheritdoc />
    public void Configure(EntityTypeBuilder<Friendship> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ToTable("friendships", t => t.HasCheckConstraint("ck_friendships_lower_first", "lower_id < higher_id"));
        builder.HasKey(f => new { f.LowerId, f.HigherId });
        builder.Property(f => f.LowerId).HasColumnName("lower_id");
        builder.Property(f => f.HigherId).HasColumnName("higher_id");
        builder.Property(f => f.CreatedAt).HasColumnName("created_at");
        builder.HasIndex(f => f.HigherId);
        builder.HasOne(f => f.Lower).WithMany().HasForeignKey(f => f.LowerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(f => f.Higher).WithMany().HasForeignKey(f => f.HigherId).OnDelete(DeleteBehavior.Cascade);
    }
}
