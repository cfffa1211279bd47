using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Paperclip.Backend.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AccountAdmin : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "is_admin",
                table: "accounts",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "is_admin",
                table: "accounts");
        }
    }
}
