using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Paperclip.Backend.Data.Configurations;

/// <summary>The <see cref="Game"/> table; its rows come from the registered games (<see cref="GameCatalogue"/>).</summary>
public sealed class GameConfiguration : IEntityTypeConfiguration<Game>
{
    /// <inheritdoc />
    public void Configure(EntityTypeBuilder<Game> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ToTable("games", t => t.HasCheckConstraint("ck_games_players", "min_players >= 1 AND max_players >= min_players"));
        builder.HasKey(g => g.Id);
        builder.Property(g => g.Id).HasColumnName("id").ValueGeneratedNever();
        builder.Property(g => g.Name).HasColumnName("name").HasMaxLength(64).IsRequired();
        builder.HasIndex(g => g.Name).IsUnique();
        builder.Property(g => g.MinPlayers).HasColumnName("min_players");
        builder.Property(g => g.MaxPlayers).HasColumnName("max_players");
    }
}
