namespace Paperclip.Backend.Lobbies.Redis;

/// <summary>
/// The Lua scripts of the Redis registry (docs/scaling-registry.md). Each runs atomically in
/// Redis: a place is decided and taken in one step, whichever API node asks. Every script gets
/// ARGV[1] = the key prefix (with its hash tag) and ARGV[2] = now in unix milliseconds from the
/// caller's clock; KEYS[1] is the lobby index (it routes the call; all keys share its slot).
/// </summary>
internal static class RedisLobbyScripts
{
    // Shared by every script: key names, the indexes, lobby snapshots, lobby removal and the
    // sweep that runs first (hosts past their heartbeat deadline, reservations past their expiry).
    //
    // The indexes keep every step O(log n) or O(work done): {p}:game:<g>:open holds the lobbies
    // of a game that have a free place on a Ready host, scored -(members + reservations) and named
    // by their zero-padded id, so its first entry is the fullest lobby with space (the lowest id
    // among equals); {p}:expiring holds each lobby's earliest reservation expiry and {p}:empty
    // the time each lobby without members became empty. Every change to a lobby's members,
    // reservations or host state is followed by reindex(id) in the same script, and the sweep
    // expires due reservations before anything reads a count, so within a script every stored
    // reservation is live and the index is exact.
    private const string Library = """
        local p = ARGV[1]
        local now = tonumber(ARGV[2])
        local function k(...) return p .. ':' .. table.concat({...}, ':') end

        local function open_key(game) return k('game', game, 'open') end
        local function slot(id) return string.format('%015d', tonumber(id)) end

        local function taken(id)
          return redis.call('ZCARD', k('lobby', id, 'members')) + redis.call('ZCARD', k('lobby', id, 'reservations'))
        end

        -- Puts the lobby where its members, reservations and host say it belongs in the indexes.
        local function reindex(id)
          local f = redis.call('HMGET', k('lobby', id), 'game', 'max', 'host')
          if not f[1] then
            redis.call('ZREM', k('expiring'), id)
            return
          end
          local first = redis.call('ZRANGE', k('lobby', id, 'reservations'), 0, 0, 'WITHSCORES')
          if first[2] then redis.call('ZADD', k('expiring'), first[2], id) else redis.call('ZREM', k('expiring'), id) end
          local t = taken(id)
          if t < tonumber(f[2]) and redis.call('HGET', k('host', f[3]), 'state') == 'Ready' then
            redis.call('ZADD', open_key(f[1]), -t, slot(id))
          else
            redis.call('ZREM', open_key(f[1]), slot(id))
          end
        end

        -- Reservations past their expiry leave their lobbies: only the lobbies that have one are touched.
        local function expire_due()
          for _, id in ipairs(redis.call('ZRANGEBYSCORE', k('expiring'), '-inf', now)) do
            redis.call('ZREMRANGEBYSCORE', k('lobby', id, 'reservations'), '-inf', now)
            reindex(id)
          end
        end

        -- The lobby an account was last placed in, per game: a hint checked against the lobby.
        local function place(game, id, account, expires)
          redis.call('ZADD', k('lobby', id, 'reservations'), expires, account)
          redis.call('HSET', k('game', game, 'accounts'), account, id)
          reindex(id)
        end

        local function snapshot(id)
          local f = redis.call('HMGET', k('lobby', id), 'game', 'game-name', 'min', 'max', 'addr-host', 'port', 'created', 'state', 'host')
          if not f[1] then return false end
          local members = redis.call('ZRANGE', k('lobby', id, 'members'), 0, -1)
          local reservations = redis.call('ZRANGE', k('lobby', id, 'reservations'), 0, -1)
          local state = f[8]
          if state ~= 'Scheduled' or #members > 0 then
            if redis.call('HGET', k('host', f[9]), 'state') == 'Draining' then state = 'Draining'
            elseif #members > 0 then state = 'Allocated' else state = 'Ready' end
          end
          return {tostring(id), f[1], f[2], f[3], f[4], f[5], f[6], f[7], state, members, reservations, f[9]}
        end

        -- Removes a lobby and its indexes; its port goes back to its host when the host is the
        -- one that ran it (same epoch); the host is told to stop it when notify is set.
        local function remove_lobby(id, notify)
          redis.call('ZREM', k('expiring'), id)
          redis.call('ZREM', k('empty'), id)
          local f = redis.call('HMGET', k('lobby', id), 'game', 'host', 'port', 'epoch')
          if not f[1] then return end
          for _, key in ipairs({k('lobby', id, 'members'), k('lobby', id, 'reservations')}) do
            for _, account in ipairs(redis.call('ZRANGE', key, 0, -1)) do
              if redis.call('HGET', k('game', f[1], 'accounts'), account) == tostring(id) then
                redis.call('HDEL', k('game', f[1], 'accounts'), account)
              end
            end
          end
          redis.call('DEL', k('lobby', id), k('lobby', id, 'members'), k('lobby', id, 'reservations'))
          redis.call('ZREM', k('lobbies'), id)
          redis.call('ZREM', open_key(f[1]), slot(id))
          redis.call('SREM', k('host', f[2], 'lobbies'), id)
          if redis.call('HGET', k('host', f[2]), 'epoch') == f[4] then
            redis.call('RPUSH', k('host', f[2], 'free-ports'), f[3])
            if notify then redis.call('PUBLISH', k('host', f[2], 'commands'), 'stop ' .. id) end
          end
        end

        local function remove_host(host, removed)
          for _, id in ipairs(redis.call('SMEMBERS', k('host', host, 'lobbies'))) do
            if removed then
              local s = snapshot(id)
              if s then table.insert(removed, s) end
            end
            remove_lobby(id, false)
          end
          redis.call('DEL', k('host', host), k('host', host, 'free-ports'), k('host', host, 'lobbies'))
          redis.call('ZREM', k('hosts'), host)
        end

        -- Due reservations expire; hosts whose heartbeat deadline passed are gone, with their lobbies.
        local function sweep(removed)
          expire_due()
          for _, host in ipairs(redis.call('ZRANGEBYSCORE', k('hosts'), '-inf', now)) do
            remove_host(host, removed)
          end
        end

        local function lost()
          return redis.call('EXISTS', k('generation')) == 0
        end

        local function find_fullest(game)
          local best = redis.call('ZRANGE', open_key(game), 0, 0)[1]
          if best then return tostring(tonumber(best)) end
          return nil
        end

        -- The live Ready host with the most free ports gets the lobby.
        local function create(game, name, min, max, account, reservation_ms)
          local best, best_free = nil, 0
          for _, host in ipairs(redis.call('ZRANGEBYSCORE', k('hosts'), '(' .. now, '+inf')) do
            if redis.call('HGET', k('host', host), 'state') == 'Ready' then
              local free = redis.call('LLEN', k('host', host, 'free-ports'))
              if free > best_free then best, best_free = host, free end
            end
          end
          if not best then return {'capacity'} end
          local h = redis.call('HMGET', k('host', best), 'public-host', 'epoch')
          local port = redis.call('LPOP', k('host', best, 'free-ports'))
          local id = redis.call('INCR', k('lobby-ids'))
          redis.call('HSET', k('lobby', id), 'game', game, 'game-name', name, 'min', min, 'max', max,
            'addr-host', h[1], 'port', port, 'created', now, 'state', 'Scheduled', 'host', best, 'epoch', h[2])
          redis.call('ZADD', k('lobbies'), id, id)
          redis.call('ZADD', k('empty'), now, id)
          redis.call('SADD', k('host', best, 'lobbies'), id)
          place(game, id, account, now + reservation_ms)
          redis.call('PUBLISH', k('host', best, 'commands'), 'start ' .. id)
          return {'created', snapshot(id)}
        end

        -- A host's report counts only from its current epoch, about a lobby it runs.
        local function fenced(host, epoch)
          sweep(nil)
          return redis.call('HGET', k('host', host), 'epoch') ~= epoch
        end

        """;

    /// <summary>ARGV[3] = lobby id → {status, snapshot}.</summary>
    public const string Get = Library + """
        if lost() then return {'lost'} end
        sweep(nil)
        local s = snapshot(ARGV[3])
        if not s then return {'none'} end
        return {'ok', s}
        """;

    /// <summary>→ {status, snapshots...}.</summary>
    public const string List = Library + """
        if lost() then return {'lost'} end
        sweep(nil)
        local out = {'ok'}
        for _, id in ipairs(redis.call('ZRANGE', k('lobbies'), 0, -1)) do
          local s = snapshot(id)
          if s then table.insert(out, s) end
        end
        return out
        """;

    /// <summary>ARGV[3] = game id → {status, snapshot}.</summary>
    public const string Find = Library + """
        if lost() then return {'lost'} end
        sweep(nil)
        local id = find_fullest(ARGV[3])
        if not id then return {'none'} end
        return {'ok', snapshot(id)}
        """;

    /// <summary>ARGV[3..8] = game, name, min, max, account, reservation ms → {status, snapshot}.</summary>
    public const string Create = Library + """
        if lost() then return {'lost'} end
        sweep(nil)
        return create(ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8]))
        """;

    /// <summary>ARGV[3..8] as <see cref="Create"/> → {joined|created|capacity, snapshot}.</summary>
    public const string Matchmake = Library + """
        if lost() then return {'lost'} end
        sweep(nil)
        local game, account, reservation_ms = ARGV[3], ARGV[7], tonumber(ARGV[8])
        local own = redis.call('HGET', k('game', game, 'accounts'), account)
        if own then
          if redis.call('ZSCORE', k('lobby', own, 'members'), account) then return {'joined', snapshot(own)} end
          local expires = redis.call('ZSCORE', k('lobby', own, 'reservations'), account)
          if expires and tonumber(expires) > now then
            place(game, own, account, now + reservation_ms)
            return {'joined', snapshot(own)}
          end
        end
        local id = find_fullest(game)
        if id then
          place(game, id, account, now + reservation_ms)
          return {'joined', snapshot(id)}
        end
        return create(game, ARGV[4], ARGV[5], ARGV[6], account, reservation_ms)
        """;

    /// <summary>ARGV[3] = lobby id → {status, snapshot}: removed now, its host told to stop it.</summary>
    public const string Remove = Library + """
        if lost() then return {'lost'} end
        sweep(nil)
        local s = snapshot(ARGV[3])
        if not s then return {'none'} end
        remove_lobby(ARGV[3], true)
        return {'ok', s}
        """;

    /// <summary>ARGV[3] = prune ms → {status, removed snapshots...}: expired hosts' lobbies and empty lobbies.</summary>
    public const string Prune = Library + """
        if lost() then return {'lost'} end
        local removed = {}
        sweep(removed)
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', k('empty'), '-inf', now - tonumber(ARGV[3]))) do
          local s = snapshot(id)
          if s then table.insert(removed, s) end
          remove_lobby(id, true)
        end
        local out = {'ok'}
        for _, s in ipairs(removed) do table.insert(out, s) end
        return out
        """;

    /// <summary>
    /// ARGV[3..7] = host, public host, first port, last port, timeout ms; ARGV[8] = a new
    /// generation id used when Redis has none (it lost its state, or is new) → {ok, epoch}.
    /// </summary>
    public const string Register = Library + """
        local host = ARGV[3]
        if redis.call('EXISTS', k('generation')) == 0 then redis.call('SET', k('generation'), ARGV[8]) end
        sweep(nil)
        remove_host(host, nil)
        local epoch = redis.call('INCR', k('host-epoch', host))
        redis.call('HSET', k('host', host), 'epoch', epoch, 'public-host', ARGV[4], 'state', 'Ready')
        for port = tonumber(ARGV[5]), tonumber(ARGV[6]) do redis.call('RPUSH', k('host', host, 'free-ports'), port) end
        redis.call('ZADD', k('hosts'), now + tonumber(ARGV[7]), host)
        return {'ok', epoch}
        """;

    /// <summary>ARGV[3..5] = host, epoch, timeout ms → {ok, {lobby id, state}...} or {fenced}.</summary>
    public const string Heartbeat = Library + """
        local host = ARGV[3]
        if lost() or fenced(host, ARGV[4]) then return {'fenced'} end
        redis.call('ZADD', k('hosts'), 'XX', now + tonumber(ARGV[5]), host)
        local out = {'ok'}
        for _, id in ipairs(redis.call('SMEMBERS', k('host', host, 'lobbies'))) do
          table.insert(out, {id, redis.call('HGET', k('lobby', id), 'state')})
        end
        return out
        """;

    /// <summary>ARGV[3..6] = host, epoch, lobby, account → {ok, 1|0} (1: a place) or {fenced}.</summary>
    public const string Join = Library + """
        local host, id, account = ARGV[3], ARGV[5], ARGV[6]
        if lost() or fenced(host, ARGV[4]) then return {'fenced'} end
        local f = redis.call('HMGET', k('lobby', id), 'host', 'max', 'game')
        if f[1] ~= host then return {'ok', 0} end
        if redis.call('ZSCORE', k('lobby', id, 'members'), account) then return {'ok', 1} end
        local reserved = redis.call('ZREM', k('lobby', id, 'reservations'), account) == 1
        if not reserved and taken(id) >= tonumber(f[2]) then return {'ok', 0} end
        redis.call('ZADD', k('lobby', id, 'members'), redis.call('HINCRBY', k('lobby', id), 'joins', 1), account)
        redis.call('ZREM', k('empty'), id)
        redis.call('HSET', k('game', f[3], 'accounts'), account, id)
        reindex(id)
        return {'ok', 1}
        """;

    /// <summary>ARGV[3..6] = host, epoch, lobby, account → {ok} or {fenced}.</summary>
    public const string Leave = Library + """
        local host, id, account = ARGV[3], ARGV[5], ARGV[6]
        if lost() or fenced(host, ARGV[4]) then return {'fenced'} end
        if redis.call('HGET', k('lobby', id), 'host') ~= host then return {'ok'} end
        if redis.call('ZREM', k('lobby', id, 'members'), account) == 1 then
          if redis.call('ZCARD', k('lobby', id, 'members')) == 0 then redis.call('ZADD', k('empty'), now, id) end
          reindex(id)
        end
        return {'ok'}
        """;

    /// <summary>ARGV[3..6] = host, epoch, lobby, state (Ready, Allocated or Shutdown) → {ok, 1|0} (0: no such lobby of this host) or {fenced}.</summary>
    public const string State = Library + """
        local host, id, state = ARGV[3], ARGV[5], ARGV[6]
        if lost() or fenced(host, ARGV[4]) then return {'fenced'} end
        if redis.call('HGET', k('lobby', id), 'host') ~= host then return {'ok', 0} end
        if state == 'Shutdown' then remove_lobby(id, false) else redis.call('HSET', k('lobby', id), 'state', 'Ready') end
        return {'ok', 1}
        """;

    /// <summary>ARGV[3..4] = host, epoch → {ok} or {fenced}: no new lobbies on the host; its lobbies show Draining.</summary>
    public const string Drain = Library + """
        local host = ARGV[3]
        if lost() or fenced(host, ARGV[4]) then return {'fenced'} end
        redis.call('HSET', k('host', host), 'state', 'Draining')
        for _, id in ipairs(redis.call('SMEMBERS', k('host', host, 'lobbies'))) do reindex(id) end
        return {'ok'}
        """;

    /// <summary>ARGV[3..4] = host, epoch → {ok}: the host leaves with its lobbies (a clean stop).</summary>
    public const string Deregister = Library + """
        local host = ARGV[3]
        if redis.call('HGET', k('host', host), 'epoch') == ARGV[4] then remove_host(host, nil) end
        return {'ok'}
        """;
}
