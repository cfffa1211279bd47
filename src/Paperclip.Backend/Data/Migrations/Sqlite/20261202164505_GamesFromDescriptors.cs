using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Paperclip.Backend.Data.Migrations.Sqlite
{
    /// <summary>
    /// The games table's rows now come from the registered games' descriptors (GameCatalogue, at
    /// every start) instead of seed data. The seeded row stays: the sync keeps it, so a database
    /// migrated before this change keeps its game ids, and nothing is deleted here.
    /// </summary>
    public partial class GamesFromDescriptors : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
        }
    }
}
