using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Paperclip.Backend.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class InitialCreate : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "accounts",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    username = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    normalized_username = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    password_hash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    password_salt = table.Column<byte[]>(type: "BLOB", nullable: false),
                    password_iterations = table.Column<int>(type: "INTEGER", nullable: false),
                    public_key = table.Column<byte[]>(type: "BLOB", nullable: false),
                    encrypted_private_key = table.Column<byte[]>(type: "BLOB", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_accounts", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "games",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    min_players = table.Column<int>(type: "INTEGER", nullable: false),
                    max_players = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_games", x => x.id);
                    table.CheckConstraint("ck_games_players", "min_players >= 1 AND max_players >= min_players");
                });

            migrationBuilder.CreateTable(
                name: "friendships",
                columns: table => new
                {
                    lower_id = table.Column<long>(type: "INTEGER", nullable: false),
                    higher_id = table.Column<long>(type: "INTEGER", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_friendships", x => new { x.lower_id, x.higher_id });
                    table.CheckConstraint("ck_friendships_lower_first", "lower_id < higher_id");
                    table.ForeignKey(
                        name: "FK_friendships_accounts_higher_id",
                        column: x => x.higher_id,
                        principalTable: "accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_friendships_accounts_lower_id",
                        column: x => x.lower_id,
                        principalTable: "accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.InsertData(
                table: "games",
                columns: new[] { "id", "max_players", "min_players", "name" },
                values: new object[] { 1L, 2, 2, "RPS" });

            migrationBuilder.CreateIndex(
                name: "IX_accounts_normalized_username",
                table: "accounts",
                column: "normalized_username",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_friendships_higher_id",
                table: "friendships",
                column: "higher_id");

            migrationBuilder.CreateIndex(
                name: "IX_games_name",
                table: "games",
                column: "name",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "friendships");

            migrationBuilder.DropTable(
                name: "games");

            migrationBuilder.DropTable(
                name: "accounts");
        }
    }
}
