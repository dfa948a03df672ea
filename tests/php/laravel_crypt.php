<?php
// Laravel's own Encrypter (Debian's php-illuminate-encryption) for the console's tests.
//   php tests/php/laravel_crypt.php /usr/share/php/Illuminate/Encryption/autoload.php
// Reads JSON on stdin: one command {"key": "base64:...", "action": "encrypt|decrypt|encryptString|
// decryptString", "value": "..."} or a list of them, so that one process serves a whole batch.
// Prints one result (or a list) as JSON: {"ok": true, "value": ..., "type": "string"} or
// {"ok": false, "error": "<exception class>", "message": "..."}.

declare(strict_types=1);

require $argv[1];

use Illuminate\Encryption\Encrypter;

// As in a Laravel application (HandleExceptions): a notice or warning is an exception. This is
// how decrypt() on a raw-flavour value fails there: unserialize() raises a notice.
set_error_handler(function (int $level, string $message, string $file, int $line): bool {
    throw new ErrorException($message, 0, $level, $file, $line);
});

// As Laravel's EncryptionServiceProvider reads APP_KEY.
function laravel_key(string $text): string
{
    return str_starts_with($text, 'base64:') ? base64_decode(substr($text, 7), true) : $text;
}

function run_command(array $command): array
{
    try {
        $encrypter = new Encrypter(laravel_key($command['key']), 'AES-256-CBC');
        $value = $command['value'];
        $result = match ($command['action']) {
            'encrypt' => $encrypter->encrypt($value),
            'decrypt' => $encrypter->decrypt($value),
            'encryptString' => $encrypter->encryptString($value),
            'decryptString' => $encrypter->decryptString($value),
        };
        return ['ok' => true, 'value' => $result, 'type' => get_debug_type($result)];
    } catch (Throwable $error) {
        return ['ok' => false, 'error' => get_class($error), 'message' => $error->getMessage()];
    }
}

$input = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$output = array_is_list($input) ? array_map('run_command', $input) : run_command($input);
echo json_encode(
    $output,
    JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR
), "\n";
