<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="pt_BR">
<context>
    <name>AddContactDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="57"/>
        <source>Add contact</source>
        <translation>Adicionar contato</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="60"/>
        <source>Enter the ID of the person you want to add.</source>
        <translation>Digite o ID da pessoa que você quer adicionar.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="64"/>
        <source>e.g. K7QM-4XPA</source>
        <translation>ex.: K7QM-4XPA</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="69"/>
        <source>Look up</source>
        <translation>Procurar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="75"/>
        <source>An ID has 8 letters and digits, like K7QM-4XPA.</source>
        <translation>Um ID tem 8 letras e números, como K7QM-4XPA.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="107"/>
        <source>Add</source>
        <translation>Adicionar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="110"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="174"/>
        <source>This is not an ID. An ID looks like K7QM-4XPA.</source>
        <translation>Isso não é um ID. Um ID é assim: K7QM-4XPA.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="179"/>
        <source>That&apos;s your own ID.</source>
        <translation>Esse é o seu próprio ID.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="182"/>
        <source>%1 is already one of your contacts.</source>
        <translation>%1 já está nos seus contatos.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="185"/>
        <source>Looking up %1…</source>
        <translation>Procurando %1…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="209"/>
        <source>Found: %1</source>
        <translation>Encontrado: %1</translation>
    </message>
</context>
<context>
    <name>AppController</name>
    <message>
        <location filename="../../messenger_gui/app.py" line="369"/>
        <location filename="../../messenger_gui/app.py" line="827"/>
        <source>Retry now</source>
        <translation>Tentar agora</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="399"/>
        <source>Keep running in the tray when closed</source>
        <translation>Continuar na bandeja ao fechar a janela</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="447"/>
        <source>Your ID %1 is copied: paste it to whoever wants to add you.</source>
        <translation>Seu ID %1 foi copiado: cole para quem quiser adicionar você.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="482"/>
        <source>This message is being sent and cannot be deleted.</source>
        <translation>Esta mensagem está sendo enviada e não pode ser apagada.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="521"/>
        <source>Message not sent</source>
        <translation>Mensagem não enviada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="538"/>
        <location filename="../../messenger_gui/app.py" line="747"/>
        <source>Message not edited</source>
        <translation>Mensagem não editada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="553"/>
        <source>Delete</source>
        <translation>Apagar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="554"/>
        <source>Delete this message?</source>
        <translation>Apagar esta mensagem?</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/app.py" line="556"/>
        <source>Delete %n messages?</source>
        <translation>
            <numerusform>Apagar %n mensagem?</numerusform>
            <numerusform>Apagar %n mensagens?</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="560"/>
        <source>This cannot be undone.</source>
        <translation>Isso não pode ser desfeito.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="564"/>
        <source>Delete for everyone</source>
        <translation>Apagar para todos</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="570"/>
        <source>Delete for me</source>
        <translation>Apagar para mim</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="606"/>
        <source>That is not one emoji.</source>
        <translation>Isso não é um emoji.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="615"/>
        <source>React</source>
        <translation>Reagir</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="616"/>
        <source>Type or paste one emoji:</source>
        <translation>Digite ou cole um emoji:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="709"/>
        <source>Messenger</source>
        <translation>Messenger</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="734"/>
        <source>Message not sent: %1</source>
        <translation>Mensagem não enviada: %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="750"/>
        <source>Message not deleted: %1</source>
        <translation>Mensagem não apagada: %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="752"/>
        <source>Reaction not sent: %1</source>
        <translation>Reação não enviada: %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="799"/>
        <source>Online</source>
        <translation>Conectado</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="801"/>
        <source>Connecting…</source>
        <translation>Conectando…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="805"/>
        <source>Offline — retrying…</source>
        <translation>Sem conexão — tentando de novo…</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/app.py" line="806"/>
        <source>Offline — retrying in %n s</source>
        <translation>
            <numerusform>Sem conexão — nova tentativa em %n s</numerusform>
            <numerusform>Sem conexão — nova tentativa em %n s</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="810"/>
        <source>Account disabled by the server&apos;s administrator</source>
        <translation>Conta desativada pelo administrador do servidor</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="812"/>
        <source>The server does not know this identity (was it reset?)</source>
        <translation>O servidor não conhece esta identidade (ele foi reiniciado do zero?)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="814"/>
        <source>Server certificate not trusted</source>
        <translation>Certificado do servidor não confiável</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="815"/>
        <source>Credential refused</source>
        <translation>Credencial recusada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="817"/>
        <source>Signed in elsewhere</source>
        <translation>Conectado em outro lugar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="818"/>
        <source>Offline</source>
        <translation>Sem conexão</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="823"/>
        <source>Use here</source>
        <translation>Usar aqui</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="825"/>
        <source>Try again</source>
        <translation>Tentar de novo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="890"/>
        <source>%1 is now a contact.</source>
        <translation>%1 agora é um contato.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="899"/>
        <source>Block %1?</source>
        <translation>Bloquear %1?</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="902"/>
        <source>%1 will not be in your chats and their messages will not notify you. Adding them as a contact later unblocks them.</source>
        <translation>%1 não vai aparecer nas suas conversas e as mensagens dessa pessoa não vão notificar você. Adicioná-la como contato depois a desbloqueia.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="911"/>
        <source>Block</source>
        <translation>Bloquear</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="952"/>
        <source>%1 in %2</source>
        <translation>%1 em %2</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/app.py" line="957"/>
        <source>%n new message(s)</source>
        <translation>
            <numerusform>%n nova mensagem</numerusform>
            <numerusform>%n novas mensagens</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="1207"/>
        <source>Export chat</source>
        <translation>Exportar conversa</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="1214"/>
        <source>Web page (*.html)</source>
        <translation>Página da web (*.html)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="1214"/>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="1231"/>
        <source>edited</source>
        <translation>editada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="1231"/>
        <source>Message deleted</source>
        <translation>Mensagem apagada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="1240"/>
        <source>Export failed</source>
        <translation>Falha ao exportar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="1240"/>
        <source>Could not write %1.</source>
        <translation>Não foi possível gravar %1.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="1243"/>
        <source>Chat exported to %1</source>
        <translation>Conversa exportada para %1</translation>
    </message>
</context>
<context>
    <name>Attachments</name>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="280"/>
        <source>%1 of %2</source>
        <translation>%1 de %2</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="286"/>
        <source>%1 · waiting to upload</source>
        <translation>%1 · aguardando envio</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="291"/>
        <source>%1 · Download</source>
        <translation>%1 · Baixar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="293"/>
        <source>%1 · waiting to download</source>
        <translation>%1 · aguardando download</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="298"/>
        <source>No longer on the server</source>
        <translation>Não está mais no servidor</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="299"/>
        <source>Download failed · Retry</source>
        <translation>Falha no download · Tentar de novo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="459"/>
        <source>Image could not be shown</source>
        <translation>Não foi possível mostrar a imagem</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="543"/>
        <source>Open this file?</source>
        <translation>Abrir este arquivo?</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="544"/>
        <source>“%1” is a program or script: opening it may run code on your computer. Open it only if you trust its sender and expected this file.</source>
        <translation>“%1” é um programa ou script: abri-lo pode executar código no seu computador. Abra somente se você confia em quem enviou e esperava este arquivo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="563"/>
        <source>Save file</source>
        <translation>Salvar arquivo</translation>
    </message>
</context>
<context>
    <name>BubbleDelegate</name>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1365"/>
        <source>You deleted this message</source>
        <translation>Você apagou esta mensagem</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="938"/>
        <location filename="../../messenger_gui/ui/chat.py" line="1366"/>
        <source>Message deleted</source>
        <translation>Mensagem apagada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1369"/>
        <source>Forwarded from %1</source>
        <translation>Encaminhada de %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1380"/>
        <source>Deleted message</source>
        <translation>Mensagem apagada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1382"/>
        <source>Message not available</source>
        <translation>Mensagem indisponível</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="940"/>
        <location filename="../../messenger_gui/ui/chat.py" line="1431"/>
        <source>edited</source>
        <translation>editada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1433"/>
        <source>Not sent</source>
        <translation>Não enviada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1760"/>
        <source>1 new message</source>
        <translation>1 nova mensagem</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1762"/>
        <source>%1 new messages</source>
        <translation>%1 novas mensagens</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="159"/>
        <source>Delivered to %1 of %2</source>
        <translation>Entregue a %1 de %2</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="160"/>
        <source>Read by %1 of %2</source>
        <translation>Lida por %1 de %2</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="919"/>
        <source>Not sent: %1</source>
        <translation>Não enviada: %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="922"/>
        <source>Click the red mark to retry, or right-click to delete.</source>
        <translation>Clique na marca vermelha para tentar de novo, ou com o botão direito para apagar.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="932"/>
        <location filename="../../messenger_gui/ui/chat.py" line="1376"/>
        <location filename="../../messenger_gui/ui/chat.py" line="2299"/>
        <source>You</source>
        <translation>Você</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="943"/>
        <source>Not sent</source>
        <translation>Não enviada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1988"/>
        <source>Scroll to the newest message</source>
        <translation>Ir para a mensagem mais recente</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2388"/>
        <source>React</source>
        <translation>Reagir</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2573"/>
        <source>Other emoji…</source>
        <translation>Outro emoji…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2393"/>
        <source>Reply</source>
        <translation>Responder</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2397"/>
        <source>Edit</source>
        <translation>Editar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2403"/>
        <source>Copy text</source>
        <translation>Copiar texto</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2408"/>
        <source>Select text…</source>
        <translation>Selecionar texto…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2412"/>
        <source>Copy link</source>
        <translation>Copiar link</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2417"/>
        <source>Forward</source>
        <translation>Encaminhar</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/chat.py" line="2419"/>
        <source>Forward %n messages</source>
        <translation>
            <numerusform>Encaminhar %n mensagem</numerusform>
            <numerusform>Encaminhar %n mensagens</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/chat.py" line="2428"/>
        <source>Delete %n messages</source>
        <translation>
            <numerusform>Apagar %n mensagem</numerusform>
            <numerusform>Apagar %n mensagens</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2434"/>
        <source>Select</source>
        <translation>Selecionar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2436"/>
        <source>Select several messages (Ctrl+click or Shift+click)</source>
        <translation>Selecionar várias mensagens (Ctrl+clique ou Shift+clique)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2470"/>
        <source>Retry</source>
        <translation>Tentar de novo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="2426"/>
        <location filename="../../messenger_gui/ui/chat.py" line="2473"/>
        <source>Delete</source>
        <translation>Apagar</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="202"/>
        <source>Cancel (Esc)</source>
        <translation>Cancelar (Esc)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="203"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="218"/>
        <location filename="../../messenger_gui/ui/composer.py" line="219"/>
        <source>Attach files</source>
        <translation>Anexar arquivos</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="231"/>
        <source>Write a message…</source>
        <translation>Escreva uma mensagem…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="232"/>
        <source>Message</source>
        <translation>Mensagem</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="252"/>
        <location filename="../../messenger_gui/ui/composer.py" line="471"/>
        <source>Send (Enter)</source>
        <translation>Enviar (Enter)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="253"/>
        <source>Send</source>
        <translation>Enviar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="415"/>
        <source>Reply to %1</source>
        <translation>Responder a %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="427"/>
        <source>Edit message</source>
        <translation>Editar mensagem</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="459"/>
        <source>%1 / %2 bytes</source>
        <translation>%1 / %2 bytes</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="471"/>
        <source>The message is too long</source>
        <translation>A mensagem é longa demais</translation>
    </message>
</context>
<context>
    <name>ConversationDelegate</name>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="194"/>
        <source>%1 unread</source>
        <translation>%1 não lidas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="258"/>
        <source>You: </source>
        <translation>Você: </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="262"/>
        <source>Draft: </source>
        <translation>Rascunho: </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="269"/>
        <source>Group created</source>
        <translation>Grupo criado</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="270"/>
        <source>No messages yet</source>
        <translation>Nenhuma mensagem ainda</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="274"/>
        <source>Message deleted</source>
        <translation>Mensagem apagada</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="178"/>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="194"/>
        <source>Cannot reach the server. Check the address and that the server is running.</source>
        <translation>Não foi possível alcançar o servidor. Confira o endereço e se o servidor está no ar.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="17"/>
        <source>You are offline. Try again when Messenger is connected.</source>
        <translation>Você está sem conexão. Tente de novo quando o Messenger estiver conectado.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="20"/>
        <source>There is no one with this ID on the server.</source>
        <translation>Não há ninguém com esse ID no servidor.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="23"/>
        <source>This server does not accept new registrations.</source>
        <translation>Este servidor não aceita novos cadastros.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="26"/>
        <source>The name is too long.</source>
        <translation>O nome é longo demais.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="27"/>
        <source>The message is longer than this server accepts.</source>
        <translation>A mensagem é mais longa do que este servidor aceita.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="30"/>
        <source>The server did not accept this value.</source>
        <translation>O servidor não aceitou esse valor.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="33"/>
        <source>Only group admins can do this.</source>
        <translation>Só administradores do grupo podem fazer isso.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="34"/>
        <source>You are not a member of this group any more.</source>
        <translation>Você não faz mais parte deste grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="37"/>
        <source>A group needs an admin: make someone else admin first.</source>
        <translation>Um grupo precisa de um administrador: torne outra pessoa administrador antes.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="40"/>
        <source>This person is already in the group.</source>
        <translation>Essa pessoa já está no grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="43"/>
        <source>The group is full.</source>
        <translation>O grupo está cheio.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="44"/>
        <source>It is too late to edit this message: the server allows edits only for a while after sending.</source>
        <translation>É tarde demais para editar esta mensagem: o servidor só permite edições por um tempo depois do envio.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="49"/>
        <source>Only the author of this message can do this.</source>
        <translation>Só o autor desta mensagem pode fazer isso.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="52"/>
        <source>The server no longer knows this message (it is too old).</source>
        <translation>O servidor não conhece mais esta mensagem (ela é antiga demais).</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="55"/>
        <source>This message was deleted.</source>
        <translation>Esta mensagem foi apagada.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="58"/>
        <source>This group does not exist any more.</source>
        <translation>Este grupo não existe mais.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="61"/>
        <source>Too many requests. Wait a moment and try again.</source>
        <translation>Muitas solicitações. Espere um pouco e tente de novo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="64"/>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="192"/>
        <source>The server did not answer in time.</source>
        <translation>O servidor não respondeu a tempo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="67"/>
        <source>The server is restarting. Try again in a moment.</source>
        <translation>O servidor está reiniciando. Tente de novo daqui a pouco.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="70"/>
        <source>The server refused this identity.</source>
        <translation>O servidor recusou esta identidade.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="73"/>
        <source>This identity was disabled by the administrator.</source>
        <translation>Esta identidade foi desativada pelo administrador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="76"/>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="85"/>
        <source>The server did not understand the app. Update Messenger.</source>
        <translation>O servidor não entendeu o aplicativo. Atualize o Messenger.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="79"/>
        <source>This was too large to send to the server.</source>
        <translation>Isto é grande demais para enviar ao servidor.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="82"/>
        <source>This server needs another version of Messenger. Update the app.</source>
        <translation>Este servidor precisa de outra versão do Messenger. Atualize o aplicativo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="88"/>
        <source>You are not signed in yet. Try again in a moment.</source>
        <translation>Você ainda não entrou. Tente de novo em instantes.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="91"/>
        <source>You are already signed in on this connection.</source>
        <translation>Você já entrou nesta conexão.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="94"/>
        <source>This server only accepts new people with an invite code. Ask its administrator for one.</source>
        <translation>Este servidor só aceita novas pessoas com um código de convite. Peça um ao administrador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="99"/>
        <source>This invite code is not valid: it may be mistyped, used up or expired. Check it or ask the administrator for a new one.</source>
        <translation>Este código de convite não é válido: pode estar digitado errado, esgotado ou vencido. Confira-o ou peça um novo ao administrador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="104"/>
        <source>Too many connections from your network to this server. Messenger tries again in a moment.</source>
        <translation>Conexões demais da sua rede com este servidor. O Messenger tenta de novo em instantes.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="109"/>
        <source>You or someone you chose is already in as many groups as this server allows.</source>
        <translation>Você ou alguém que você escolheu já está no máximo de grupos que este servidor permite.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="112"/>
        <source>Someone you chose has not added you as a contact. They must add you before you can put them in a group.</source>
        <translation>Alguém que você escolheu não adicionou você como contato. A pessoa precisa adicionar você antes que você a coloque em um grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="117"/>
        <source>Too many messages are waiting for this person on the server. Yours is sent when they have caught up.</source>
        <translation>Há mensagens demais esperando por esta pessoa no servidor. A sua será enviada quando ela as receber.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="122"/>
        <source>Too many of your messages are waiting on the server for their recipients. They are sent when those have caught up.</source>
        <translation>Há mensagens suas demais esperando no servidor pelos destinatários. Elas serão enviadas quando eles as receberem.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="127"/>
        <source>The server is running out of disk space. Messages wait here and are sent when it has room again.</source>
        <translation>O servidor está ficando sem espaço em disco. As mensagens esperam aqui e serão enviadas quando houver espaço de novo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="132"/>
        <source>This file is larger than the server accepts.</source>
        <translation>Este arquivo é maior do que o servidor aceita.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="135"/>
        <source>Too many files are being sent at once. Messenger goes on when one ends.</source>
        <translation>Há arquivos demais sendo enviados ao mesmo tempo. O Messenger continua quando um terminar.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="138"/>
        <source>The file did not reach the server whole. Messenger sends the rest.</source>
        <translation>O arquivo não chegou inteiro ao servidor. O Messenger envia o restante.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="141"/>
        <source>The file changed while it was being sent. Send it again.</source>
        <translation>O arquivo mudou enquanto era enviado. Envie-o de novo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="144"/>
        <source>This file is no longer on the server: everyone had it, or it expired.</source>
        <translation>Este arquivo não está mais no servidor: todos já o tinham, ou ele expirou.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="147"/>
        <source>This identity signed in from another place, so this app was disconnected.</source>
        <translation>Esta identidade entrou em outro lugar, por isso este aplicativo foi desconectado.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="150"/>
        <source>The connection was too slow, so the server closed it. Messenger reconnects.</source>
        <translation>A conexão estava lenta demais e o servidor a fechou. O Messenger se reconecta.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="153"/>
        <source>The server had a problem. Try again in a moment.</source>
        <translation>O servidor teve um problema. Tente de novo em instantes.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="156"/>
        <source>The server&apos;s certificate is not trusted. Ask its administrator.</source>
        <translation>O certificado do servidor não é confiável. Fale com o administrador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="159"/>
        <source>The server&apos;s certificate changed since the first connection. Ask its administrator before connecting again.</source>
        <translation>O certificado do servidor mudou desde a primeira conexão. Fale com o administrador antes de conectar de novo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="186"/>
        <source>The secure connection failed. Check whether this server uses TLS and that its certificate is trusted.</source>
        <translation>A conexão segura falhou. Confira se este servidor usa TLS e se o certificado dele é confiável.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="150"/>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="199"/>
        <source>Something went wrong: %1</source>
        <translation>Algo deu errado: %1</translation>
    </message>
</context>
<context>
    <name>FileSending</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="192"/>
        <source>Attach files</source>
        <translation>Anexar arquivos</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="206"/>
        <source>Screenshot %1.png</source>
        <translation>Captura de tela %1.png</translation>
    </message>
</context>
<context>
    <name>FilesController</name>
    <message>
        <location filename="../../messenger_gui/files_controller.py" line="80"/>
        <source>Download images automatically</source>
        <translation>Baixar imagens automaticamente</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/files_controller.py" line="121"/>
        <source>Files not sent</source>
        <translation>Arquivos não enviados</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/files_controller.py" line="136"/>
        <source>This message is being sent and cannot be cancelled.</source>
        <translation>Esta mensagem está sendo enviada e não pode ser cancelada.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/files_controller.py" line="165"/>
        <source>Open</source>
        <translation>Abrir</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/files_controller.py" line="168"/>
        <source>Save as…</source>
        <translation>Salvar como…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/files_controller.py" line="171"/>
        <source>Show in folder</source>
        <translation>Mostrar na pasta</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/files_controller.py" line="176"/>
        <source>Retry download</source>
        <translation>Tentar baixar de novo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/files_controller.py" line="178"/>
        <source>Download</source>
        <translation>Baixar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/files_controller.py" line="183"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
</context>
<context>
    <name>Formatting</name>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="63"/>
        <source>Today</source>
        <translation>Hoje</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="65"/>
        <source>Yesterday</source>
        <translation>Ontem</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="68"/>
        <source>dddd, d MMMM</source>
        <translation>dddd, d &apos;de&apos; MMMM</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="69"/>
        <source>d MMMM yyyy</source>
        <translation>d &apos;de&apos; MMMM &apos;de&apos; yyyy</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="86"/>
        <source>%1 is typing…</source>
        <translation>%1 está digitando…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="89"/>
        <source>%1 and %2 are typing…</source>
        <translation>%1 e %2 estão digitando…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="94"/>
        <source>%1 people are typing…</source>
        <translation>%1 pessoas estão digitando…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="104"/>
        <source>online</source>
        <translation>online</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="106"/>
        <source>last seen a long time ago</source>
        <translation>visto por último há muito tempo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="111"/>
        <source>last seen today at %1</source>
        <translation>visto por último hoje às %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="115"/>
        <source>last seen yesterday at %1</source>
        <translation>visto por último ontem às %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="119"/>
        <source>last seen %1</source>
        <translation>visto por último em %1</translation>
    </message>
</context>
<context>
    <name>ForwardDialog</name>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/forward.py" line="44"/>
        <source>Forward %n message(s)</source>
        <translation>
            <numerusform>Encaminhar %n mensagem</numerusform>
            <numerusform>Encaminhar %n mensagens</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/forward.py" line="48"/>
        <source>Search chats</source>
        <translation>Buscar conversas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/forward.py" line="62"/>
        <source>No chats to forward to.</source>
        <translation>Nenhuma conversa para onde encaminhar.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/forward.py" line="69"/>
        <source>Forward</source>
        <translation>Encaminhar</translation>
    </message>
</context>
<context>
    <name>GroupInfoDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="151"/>
        <source>Remove from group</source>
        <translation>Remover do grupo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="164"/>
        <source>Add</source>
        <translation>Adicionar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="169"/>
        <source>Add a contact:</source>
        <translation>Adicionar um contato:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="176"/>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="328"/>
        <source>Make admin</source>
        <translation>Tornar administrador</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="193"/>
        <source>You are no longer a member of this group.</source>
        <translation>Você não faz mais parte deste grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="195"/>
        <source>Leave group</source>
        <translation>Sair do grupo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="198"/>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="397"/>
        <source>Delete group</source>
        <translation>Apagar grupo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="201"/>
        <source>Close</source>
        <translation>Fechar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="258"/>
        <source>Group info — %1</source>
        <translation>Dados do grupo — %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="269"/>
        <source>Group ID: %1</source>
        <translation>ID do grupo: %1</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="270"/>
        <source>%n member(s)</source>
        <translation>
            <numerusform>%n participante</numerusform>
            <numerusform>%n participantes</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="279"/>
        <source>You</source>
        <translation>Você</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="280"/>
        <source>admin</source>
        <translation>admin</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="159"/>
        <source>All your contacts are members</source>
        <translation>Todos os seus contatos já participam</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="122"/>
        <source>Group name</source>
        <translation>Nome do grupo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="125"/>
        <source>Description (optional)</source>
        <translation>Descrição (opcional)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="126"/>
        <source>Description</source>
        <translation>Descrição</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="129"/>
        <source>Save</source>
        <translation>Salvar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="326"/>
        <source>Remove admin rights</source>
        <translation>Remover como administrador</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="389"/>
        <source>Delete group?</source>
        <translation>Apagar o grupo?</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="391"/>
        <source>Delete “%1” for everyone? Every member is removed and nobody can write to it any more; the history stays on each computer.</source>
        <translation>Apagar “%1” para todos? Todos os membros são removidos e ninguém poderá mais escrever nele; o histórico fica em cada computador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="418"/>
        <source>Leave group?</source>
        <translation>Sair do grupo?</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="421"/>
        <source>Leave “%1”? You will stop receiving its messages; the history stays on this computer.</source>
        <translation>Sair de “%1”? Você deixará de receber as mensagens dele; o histórico continua neste computador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="430"/>
        <source>Leave</source>
        <translation>Sair</translation>
    </message>
</context>
<context>
    <name>ImageViewer</name>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="633"/>
        <source>Fit</source>
        <translation>Ajustar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="637"/>
        <source>Save as…</source>
        <translation>Salvar como…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="638"/>
        <source>Copy</source>
        <translation>Copiar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="639"/>
        <source>Open with system viewer</source>
        <translation>Abrir no visualizador do sistema</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="640"/>
        <source>Zoom out</source>
        <translation>Diminuir zoom</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="641"/>
        <source>Zoom in</source>
        <translation>Aumentar zoom</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="642"/>
        <source>Actual size</source>
        <translation>Tamanho real</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="675"/>
        <source>This image could not be shown.</source>
        <translation>Não foi possível mostrar esta imagem.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/attachments.py" line="729"/>
        <source>Save image</source>
        <translation>Salvar imagem</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="240"/>
        <source>Messenger</source>
        <translation>Messenger</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="282"/>
        <source>Add contact…</source>
        <translation>Adicionar contato…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="285"/>
        <source>New group…</source>
        <translation>Novo grupo…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="288"/>
        <source>Search messages…</source>
        <translation>Pesquisar mensagens…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="290"/>
        <location filename="../../messenger_gui/ui/main_window.py" line="383"/>
        <location filename="../../messenger_gui/ui/main_window.py" line="471"/>
        <source>Copy my ID</source>
        <translation>Copiar meu ID</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="292"/>
        <source>Settings…</source>
        <translation>Configurações…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="296"/>
        <source>Export chat as HTML…</source>
        <translation>Exportar conversa como HTML…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="299"/>
        <source>Export chat as JSON…</source>
        <translation>Exportar conversa como JSON…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="302"/>
        <source>Group info…</source>
        <translation>Dados do grupo…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="305"/>
        <location filename="../../messenger_gui/ui/main_window.py" line="547"/>
        <source>Add to contacts</source>
        <translation>Adicionar aos contatos</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="307"/>
        <source>Block…</source>
        <translation>Bloquear…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="308"/>
        <source>Quit</source>
        <translation>Sair</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="364"/>
        <source>Menu</source>
        <translation>Menu</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="392"/>
        <location filename="../../messenger_gui/ui/main_window.py" line="394"/>
        <source>Filter chats</source>
        <translation>Filtrar conversas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="406"/>
        <source>Chats</source>
        <translation>Conversas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="434"/>
        <source>No chats yet.
Add a contact with Ctrl+N to start.</source>
        <translation>Nenhuma conversa ainda.
Adicione um contato com Ctrl+N para começar.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="453"/>
        <source>Select a chat to start messaging</source>
        <translation>Escolha uma conversa para começar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="466"/>
        <source>Your ID is %1. Share it so people can add you.</source>
        <translation>Seu ID é %1. Compartilhe para que as pessoas possam adicionar você.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="474"/>
        <source>Add contact</source>
        <translation>Adicionar contato</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="511"/>
        <source>Search messages</source>
        <translation>Pesquisar mensagens</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="514"/>
        <source>Chat info</source>
        <translation>Dados da conversa</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="523"/>
        <source>Messages</source>
        <translation>Mensagens</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="544"/>
        <source>Block</source>
        <translation>Bloquear</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="564"/>
        <source>Forward</source>
        <translation>Encaminhar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="569"/>
        <source>Delete</source>
        <translation>Apagar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="574"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="576"/>
        <source>Leave selection mode (Esc)</source>
        <translation>Sair da seleção (Esc)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="606"/>
        <source>Offline</source>
        <translation>Sem conexão</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="934"/>
        <source>Receiving %1 of %2…</source>
        <translation>Recebendo %1 de %2…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1012"/>
        <source>No messages here yet</source>
        <translation>Ainda não há mensagens aqui</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1013"/>
        <source>Say hi to the group!</source>
        <translation>Diga oi ao grupo!</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1013"/>
        <source>Say hi to %1!</source>
        <translation>Diga oi para %1!</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1076"/>
        <source>%1 is not in your contacts.</source>
        <translation>%1 não está nos seus contatos.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/main_window.py" line="1144"/>
        <source>%n message(s) selected</source>
        <translation>
            <numerusform>%n mensagem selecionada</numerusform>
            <numerusform>%n mensagens selecionadas</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1186"/>
        <source>Unmute</source>
        <translation>Ativar som</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1191"/>
        <source>Mute</source>
        <translation>Silenciar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1194"/>
        <source>For 1 hour</source>
        <translation>Por 1 hora</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1195"/>
        <source>For 8 hours</source>
        <translation>Por 8 horas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1196"/>
        <source>Until I unmute it</source>
        <translation>Até eu reativar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1206"/>
        <source>Unpin</source>
        <translation>Desafixar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1206"/>
        <source>Pin to top</source>
        <translation>Fixar no topo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1210"/>
        <source>Unarchive</source>
        <translation>Desarquivar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1210"/>
        <source>Archive</source>
        <translation>Arquivar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1265"/>
        <source>← Back to chats</source>
        <translation>← Voltar às conversas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1269"/>
        <source>Archived chats (%1)</source>
        <translation>Conversas arquivadas (%1)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1036"/>
        <location filename="../../messenger_gui/ui/main_window.py" line="1095"/>
        <source>You</source>
        <translation>Você</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1042"/>
        <source>1 member</source>
        <translation>1 participante</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1044"/>
        <source>%1 members</source>
        <translation>%1 participantes</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1050"/>
        <source>You are no longer a member of this group.</source>
        <translation>Você não faz mais parte deste grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="1060"/>
        <location filename="../../messenger_gui/ui/main_window.py" line="1063"/>
        <source>ID %1</source>
        <translation>ID %1</translation>
    </message>
</context>
<context>
    <name>NewGroupDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="38"/>
        <source>New group</source>
        <translation>Novo grupo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="45"/>
        <source>e.g. Family</source>
        <translation>ex.: Família</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="46"/>
        <source>Group name:</source>
        <translation>Nome do grupo:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="58"/>
        <source>Search contacts</source>
        <translation>Pesquisar contatos</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="77"/>
        <source>You have no contacts yet. Add a contact first, then create a group.</source>
        <translation>Você ainda não tem contatos. Adicione um contato primeiro e depois crie o grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="92"/>
        <source>Create</source>
        <translation>Criar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="95"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="103"/>
        <source>Members:</source>
        <translation>Participantes:</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="158"/>
        <source>%n member(s) selected</source>
        <translation>
            <numerusform>%n participante selecionado</numerusform>
            <numerusform>%n participantes selecionados</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="158"/>
        <source>No one selected</source>
        <translation>Ninguém selecionado</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="170"/>
        <source>Give the group a name.</source>
        <translation>Dê um nome ao grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="173"/>
        <source>Choose at least one member.</source>
        <translation>Escolha pelo menos um participante.</translation>
    </message>
</context>
<context>
    <name>SearchDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="180"/>
        <source>Search messages</source>
        <translation>Pesquisar mensagens</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="184"/>
        <source>Search all conversations</source>
        <translation>Pesquisar em todas as conversas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="195"/>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="222"/>
        <source>Type a word or part of one.</source>
        <translation>Digite uma palavra ou parte dela.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="235"/>
        <source>You</source>
        <translation>Você</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="254"/>
        <source>Many messages match: showing the newest %1. Type more to narrow.</source>
        <translation>Muitas mensagens combinam: mostrando as %1 mais recentes. Digite mais para refinar.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="260"/>
        <source>%n message(s) found</source>
        <translation>
            <numerusform>%n mensagem encontrada</numerusform>
            <numerusform>%n mensagens encontradas</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="262"/>
        <source>No messages found.</source>
        <translation>Nenhuma mensagem encontrada.</translation>
    </message>
</context>
<context>
    <name>SendFilesDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="61"/>
        <source>Send to %1</source>
        <translation>Enviar para %1</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="64"/>
        <source>Send %n file(s)</source>
        <translation>
            <numerusform>Enviar %n arquivo</numerusform>
            <numerusform>Enviar %n arquivos</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="66"/>
        <source>Send an image</source>
        <translation>Enviar uma imagem</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="90"/>
        <source>Only the first %1 files are sent; %2 were left out.</source>
        <translation>Só os primeiros %1 arquivos são enviados; %2 ficaram de fora.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="106"/>
        <source>Add a caption…</source>
        <translation>Adicione uma legenda…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="107"/>
        <source>Caption</source>
        <translation>Legenda</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="113"/>
        <source>Send</source>
        <translation>Enviar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="115"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="138"/>
        <source>FILE</source>
        <translation>ARQ</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/send_files.py" line="150"/>
        <source>cannot be read</source>
        <translation>não pode ser lido</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/settings.py" line="36"/>
        <source>Settings</source>
        <translation>Configurações</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/settings.py" line="39"/>
        <source>Who can see when I am online</source>
        <translation>Quem pode ver quando estou online</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/settings.py" line="42"/>
        <source>Everyone I share a chat with</source>
        <translation>Todos com quem tenho uma conversa</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/settings.py" line="43"/>
        <source>Nobody</source>
        <translation>Ninguém</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/settings.py" line="50"/>
        <source>Your contacts who added you back and the members of your groups. If you choose nobody, you do not see when others are online either.</source>
        <translation>Seus contatos que também adicionaram você e os membros dos seus grupos. Se escolher ninguém, você também não vê quando os outros estão online.</translation>
    </message>
</context>
<context>
    <name>SystemLine</name>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="129"/>
        <source>%1 renamed the group to “%3”</source>
        <translation>%1 mudou o nome do grupo para “%3”</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="130"/>
        <source>%1 changed the group description</source>
        <translation>%1 mudou a descrição do grupo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="131"/>
        <source>%1 made %2 an admin</source>
        <translation>%1 tornou %2 administrador</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="132"/>
        <source>%1 removed %2 as admin</source>
        <translation>%1 removeu %2 como administrador</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="133"/>
        <source>%1 deleted the group</source>
        <translation>%1 apagou o grupo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="139"/>
        <source>You</source>
        <translation>Você</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="141"/>
        <source>you</source>
        <translation>você</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="58"/>
        <source>Show Messenger</source>
        <translation>Mostrar o Messenger</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="59"/>
        <source>Quit</source>
        <translation>Sair</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/tray.py" line="88"/>
        <source>Messenger — %n unread message(s)</source>
        <translation>
            <numerusform>Messenger — %n mensagem não lida</numerusform>
            <numerusform>Messenger — %n mensagens não lidas</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="90"/>
        <source>Messenger — offline</source>
        <translation>Messenger — sem conexão</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="91"/>
        <source>Messenger</source>
        <translation>Messenger</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="152"/>
        <source>Messenger is still running</source>
        <translation>O Messenger continua aberto</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="154"/>
        <source>You will be notified of new messages. To quit, choose Quit from the tray icon&apos;s menu.</source>
        <translation>Você será avisado de novas mensagens. Para fechar de vez, escolha Sair no menu do ícone da bandeja.</translation>
    </message>
</context>
<context>
    <name>WelcomeDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="107"/>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="129"/>
        <source>Welcome to Messenger</source>
        <translation>Boas-vindas ao Messenger</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="136"/>
        <source>Choose the name others will see. You get an ID that friends use to add you as a contact.</source>
        <translation>Escolha o nome que os outros vão ver. Você recebe um ID que seus amigos usam para adicionar você como contato.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="155"/>
        <source>e.g. Maria Silva</source>
        <translation>ex.: Maria Silva</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="157"/>
        <source>host:port</source>
        <translation>servidor:porta</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="158"/>
        <source>Use a secure connection (TLS)</source>
        <translation>Usar conexão segura (TLS)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="163"/>
        <source>e.g. 7KQM-4XPA-B8NZ</source>
        <translation>ex.: 7KQM-4XPA-B8NZ</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="165"/>
        <source>Invite code:</source>
        <translation>Código de convite:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="167"/>
        <source>I have an invite code</source>
        <translation>Tenho um código de convite</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="184"/>
        <source>Your name:</source>
        <translation>Seu nome:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="185"/>
        <source>Server:</source>
        <translation>Servidor:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="200"/>
        <source>Register</source>
        <translation>Cadastrar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="202"/>
        <source>Quit</source>
        <translation>Sair</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="245"/>
        <source>Enter a name of 1 to %1 characters.</source>
        <translation>Digite um nome de 1 a %1 caracteres.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="249"/>
        <source>Enter the server as host:port, e.g. chat.example.org:7850.</source>
        <translation>Digite o servidor como endereço:porta, ex.: chat.exemplo.com.br:7850.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="256"/>
        <source>An invite code has 12 letters and digits, e.g. 7KQM-4XPA-B8NZ.</source>
        <translation>Um código de convite tem 12 letras e números, ex.: 7KQM-4XPA-B8NZ.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="264"/>
        <source>Registering with %1…</source>
        <translation>Cadastrando em %1…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="337"/>
        <source>This is your ID. Share it with the people you want to chat with:</source>
        <translation>Este é o seu ID. Compartilhe com as pessoas com quem você quer conversar:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="351"/>
        <source>Copy ID</source>
        <translation>Copiar ID</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="378"/>
        <source>Continue</source>
        <translation>Continuar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="414"/>
        <source>The server&apos;s certificate was pinned. Its SHA-256 fingerprint, to compare with your administrator&apos;s:
%1</source>
        <translation>O certificado do servidor foi fixado. A impressão digital SHA-256 dele, para comparar com a do seu administrador:
%1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="420"/>
        <source>You&apos;re all set, %1!</source>
        <translation>Tudo pronto, %1!</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="358"/>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="436"/>
        <source>Copied</source>
        <translation>Copiado</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <location filename="../../messenger_gui/__main__.py" line="191"/>
        <source>Messenger cannot start</source>
        <translation>O Messenger não pode iniciar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/__main__.py" line="192"/>
        <source>The profile in %1 cannot be opened:
%2</source>
        <translation>O perfil em %1 não pode ser aberto:
%2</translation>
    </message>
</context>
</TS>
