using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Paperclip.Backend.Data;

/// <summary>Provider-neutral checks of database errors.</summary>
public static class DbErrors
{
    /// <summary>True when the update failed on a unique or primary key constraint.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.InnerException switch
        {
            // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555).
            SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555,
            PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
            _ => false,
        };
    }
}
