namespace Paperclip.Contracts;

/// <summary><c>POST /auth/register</c> request.</summary>
/// <param name="Username">1–32 letters, digits, <c>_</c>, <c>-</c> or <c>.</c>; unique without regard to case.</param>
/// <param name="Password">The password; it also encrypts the account's private key.</param>
public sealed record RegisterRequest(string Username, string Password);

/// <summary><c>POST /auth/register</c> answer.</summary>
/// <param name="AccountId">The new account's id.</param>
/// <param name="Username">The username as registered.</param>
public sealed record RegisterResponse(long AccountId, string Username);

/// <summary><c>GET /auth/token</c> answer.</summary>
/// <param name="Token">The session token (a JWT).</param>
/// <param name="ExpiresIn">Its lifetime in seconds.</param>
public sealed record TokenResponse(string Token, int ExpiresIn);

/// <summary><c>GET /auth/key</c> answer.</summary>
/// <param name="Key">The account's private key: PKCS#8 EncryptedPrivateKeyInfo DER, base64, encrypted with the password.</param>
/// <param name="AccountId">The account's id.</param>
public sealed record KeyResponse(string Key, long AccountId);

/// <summary><c>/auth/certificate/validate</c> request.</summary>
/// <param name="Certificate">The certificate: base64 (or base64url) DER.</param>
public sealed record CertificateValidationRequest(string Certificate);

/// <summary><c>/auth/certificate/validate</c> answer.</summary>
/// <param name="Valid">True when the certificate checks out.</param>
/// <param name="AccountId">The account of a valid account certificate; null for a server certificate or an invalid one.</param>
public sealed record CertificateValidationResponse(bool Valid, long? AccountId);

/// <summary><c>GET /auth/server-key</c> answer.</summary>
/// <param name="Key">The backend's server public key: SubjectPublicKeyInfo DER, base64.</param>
public sealed record ServerKeyResponse(string Key);
